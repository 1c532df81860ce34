//! One ranked search over tasks, agencies and every record kind, insensitive to case,
//! tone marks, diacritics and NFC/NFD form, the same on SQLite and PostgreSQL.
//!
//! Every searchable row keeps a folded `search_key`; the query is folded the same way,
//! each of its words must occur in the key (a SQL pre-filter), and candidates are ranked
//! in Rust by `domain::text::match_rank`.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{DatabaseConnection, FromQueryResult};

use super::StoreError;
use crate::domain::records::RecordKind;
use crate::domain::text::{contains_pattern, match_rank, query_words, search_key};

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HitKind {
    Task,
    Agency,
    Record(RecordKind),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: HitKind,
    pub id: i32,
    pub title: String,
    /// 1.0 for an exact match, falling with weaker kinds of match.
    pub score: f64,
}

#[derive(FromQueryResult)]
struct Candidate {
    id: i32,
    title: Option<String>,
    search_key: String,
}

/// Table, title column and whether it has provenance (archived/withdrawn) columns.
fn source_of(kind: HitKind) -> (&'static str, &'static str, bool) {
    match kind {
        HitKind::Task => ("tasks", "text", false),
        HitKind::Agency => ("agencies", "name", false),
        HitKind::Record(kind) => {
            let title = match kind {
                RecordKind::IpRight | RecordKind::OcopProduct | RecordKind::Startup => "name",
                RecordKind::TraceabilityEntry => "event_id",
                RecordKind::ScienceTask | RecordKind::ApplicationModel => "title",
                RecordKind::TechnologyAssessment => "enterprise_name",
                RecordKind::AnnualReport => "summary",
            };
            (kind.table(), title, true)
        }
    }
}

/// Searches `kinds` for `text` — or, when `kinds` is `None`, tasks, agencies and every
/// record kind but traceability entries; at most `first` hits, best first.
pub async fn search(
    db: &DatabaseConnection,
    text: &str,
    kinds: Option<&[RecordKind]>,
    first: usize,
) -> Result<Vec<Hit>, StoreError> {
    let key = search_key(text);
    let words = query_words(&key);
    if words.is_empty() || first == 0 {
        return Ok(Vec::new());
    }
    let mut sources: Vec<HitKind> = Vec::new();
    match kinds {
        Some(kinds) => sources.extend(kinds.iter().map(|k| HitKind::Record(*k))),
        None => {
            sources.push(HitKind::Task);
            sources.push(HitKind::Agency);
            // Traceability entries hold identifiers, not words, and outnumber everything
            // else: they are searched only when asked for by kind.
            sources.extend(
                RecordKind::ALL
                    .iter()
                    .filter(|k| **k != RecordKind::TraceabilityEntry)
                    .map(|k| HitKind::Record(*k)),
            );
        }
    }
    // Enough candidates per source to rank well without scanning everything.
    let candidates_per_source = (first * 4).clamp(20, 400) as u64;
    let mut hits = Vec::new();
    for source in sources {
        let (table, title, has_provenance) = source_of(source);
        let table_alias = Alias::new(table);
        let mut select = Query::select();
        select
            .expr_as(
                Expr::col((table_alias.clone(), Alias::new("id"))),
                Alias::new("id"),
            )
            .expr_as(
                Expr::col((table_alias.clone(), Alias::new(title))),
                Alias::new("title"),
            )
            .expr_as(
                Expr::col((table_alias.clone(), Alias::new("search_key"))),
                Alias::new("search_key"),
            )
            .from(table_alias.clone())
            .limit(candidates_per_source);
        if source == HitKind::Agency {
            // Aliases count as the agency's own words.
            let aliases = Query::select()
                .column(Alias::new("agency_id"))
                .from(Alias::new("agency_aliases"))
                .cond_where(all_words(&words, ("agency_aliases", "search_key")))
                .to_owned();
            select.cond_where(
                sea_orm::Condition::any()
                    .add(all_words(&words, (table, "search_key")))
                    .add(Expr::col((table_alias.clone(), Alias::new("id"))).in_subquery(aliases)),
            );
        } else {
            select.cond_where(all_words(&words, (table, "search_key")));
        }
        if has_provenance {
            select
                .and_where(Expr::col((table_alias.clone(), Alias::new("archived_at"))).is_null())
                .and_where(Expr::col((table_alias, Alias::new("withdrawn_at"))).is_null());
        }
        let statement = db.get_database_backend().build(&select);
        let rows = Candidate::find_by_statement(statement).all(db).await?;
        let aliases = if source == HitKind::Agency {
            let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
            super::plan::aliases_by_agencies(db, &ids).await?
        } else {
            Vec::new()
        };
        for row in rows {
            let title = row.title.unwrap_or_default();
            let title_key = search_key(&title);
            let keys = [row.search_key.as_str(), title_key.as_str()]
                .into_iter()
                .chain(
                    aliases
                        .iter()
                        .filter(|a| a.agency_id == row.id)
                        .map(|a| a.search_key.as_str()),
                );
            // Every candidate matched the pre-filter; one matched only loosely ranks last.
            let rank = match_rank(&key, keys).unwrap_or(4);
            hits.push(Hit {
                kind: source,
                id: row.id,
                title,
                score: 1.0 / (1.0 + f64::from(rank)),
            });
        }
    }
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.title.len().cmp(&b.title.len()))
            .then_with(|| a.id.cmp(&b.id))
    });
    hits.truncate(first);
    Ok(hits)
}

/// Every word occurs in the folded column.
fn all_words(words: &[&str], column: (&str, &str)) -> sea_orm::Condition {
    words
        .iter()
        .fold(sea_orm::Condition::all(), |condition, word| {
            condition.add(
                Expr::col((Alias::new(column.0), Alias::new(column.1)))
                    .like(LikeExpr::new(contains_pattern(word)).escape('\\')),
            )
        })
}
