//! One ranked search over tasks, agencies and every record kind, insensitive to case,
//! tone marks, diacritics and NFC/NFD form, the same on SQLite and PostgreSQL.
//!
//! Every searchable text has a row in `search_entries` with its folded key (and its
//! title's), kept in step by the writes that change them. A search is one statement: the
//! rows whose key holds every word of the query (an index built for substring search
//! finds them: trigrams on PostgreSQL, FTS5 on SQLite), ranked in SQL the same way
//! `domain::text::match_rank` ranks, best first.

use std::collections::HashSet;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use super::StoreError;
use super::batch::rows_per_insert;
use crate::db::entities::{RecordModel, agencies, agency_aliases, search_entries, tasks};
use crate::domain::records::RecordKind;
use crate::domain::text::{query_words, search_key};
use crate::records::{Kind, column_scalar, with_kind};

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HitKind {
    Task,
    Agency,
    Record(RecordKind),
}

impl HitKind {
    /// Its name in `search_entries.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Task => "TASK",
            HitKind::Agency => "AGENCY",
            HitKind::Record(kind) => kind.as_str(),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "TASK" => Some(HitKind::Task),
            "AGENCY" => Some(HitKind::Agency),
            _ => RecordKind::parse(text).ok().map(HitKind::Record),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: HitKind,
    pub id: i32,
    pub title: String,
    /// 1.0 for an exact match, falling with weaker kinds of match.
    pub score: f64,
}

/// One searchable text, as the search table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: HitKind,
    pub id: i32,
    /// 0 for the row itself; the alias's id for an agency's alias.
    pub variant: i32,
    pub title: String,
    pub key: String,
    pub active: bool,
}

impl Entry {
    fn active_model(&self) -> search_entries::ActiveModel {
        search_entries::ActiveModel {
            kind: Set(self.kind.as_str().to_owned()),
            record_id: Set(self.id),
            variant: Set(self.variant),
            title_key: Set(search_key(&self.title)),
            title: Set(self.title.clone()),
            key: Set(self.key.clone()),
            active: Set(self.active),
            ..Default::default()
        }
    }
}

/// Writes entries over the ones of the same texts.
pub async fn write_entries<C: ConnectionTrait>(db: &C, entries: &[Entry]) -> Result<(), DbErr> {
    use search_entries::Column;
    for chunk in entries.chunks(rows_per_insert(8)) {
        search_entries::Entity::insert_many(chunk.iter().map(Entry::active_model))
            .on_conflict(
                OnConflict::columns([Column::Kind, Column::RecordId, Column::Variant])
                    .update_columns([Column::Title, Column::Key, Column::TitleKey, Column::Active])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The entry of a record: its kind's title column and search key; inactive once archived
/// or withdrawn.
pub fn record_entry<K: Kind>(model: &K::Model) -> Entry {
    let provenance = model.provenance();
    let title = match column_scalar(model, K::SPEC.search.title) {
        Some(crate::domain::filter::Scalar::Text(title)) => title,
        _ => String::new(),
    };
    Entry {
        kind: HitKind::Record(K::SPEC.kind),
        id: provenance.id,
        variant: 0,
        title,
        key: model.search_key().to_owned(),
        active: provenance.archived_at.is_none() && provenance.withdrawn_at.is_none(),
    }
}

/// Brings the entries of these records up to date.
pub async fn index_records<K: Kind, C: ConnectionTrait>(
    db: &C,
    models: impl IntoIterator<Item = &K::Model>,
) -> Result<(), DbErr> {
    let entries: Vec<Entry> = models.into_iter().map(record_entry::<K>).collect();
    write_entries(db, &entries).await
}

/// The entries of the plan's tasks, agencies and agencies' aliases.
async fn plan_entries<C: ConnectionTrait>(db: &C) -> Result<Vec<Entry>, DbErr> {
    let mut entries = Vec::new();
    for task in tasks::Entity::find().all(db).await? {
        entries.push(Entry {
            kind: HitKind::Task,
            id: task.id,
            variant: 0,
            title: task.text,
            key: task.search_key,
            active: true,
        });
    }
    let agencies = agencies::Entity::find().all(db).await?;
    let names: std::collections::HashMap<i32, String> =
        agencies.iter().map(|a| (a.id, a.name.clone())).collect();
    for agency in agencies {
        entries.push(Entry {
            kind: HitKind::Agency,
            id: agency.id,
            variant: 0,
            title: agency.name,
            key: agency.search_key,
            active: true,
        });
    }
    for alias in agency_aliases::Entity::find().all(db).await? {
        entries.push(Entry {
            kind: HitKind::Agency,
            id: alias.agency_id,
            variant: alias.id,
            title: names.get(&alias.agency_id).cloned().unwrap_or_default(),
            key: alias.search_key,
            active: true,
        });
    }
    Ok(entries)
}

/// Brings the entries of the plan (tasks, agencies and their aliases) up to date.
pub async fn index_plan<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    write_entries(db, &plan_entries(db).await?).await
}

/// Rows of a kind read per statement while the search table is filled.
const REBUILD_PAGE: u64 = 5_000;

/// Brings the entries of every record of kind `K` up to date.
pub async fn index_kind<K: Kind, C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait};
    let mut after = 0;
    loop {
        let page = <K::Entity as EntityTrait>::find()
            .filter(Expr::col(Alias::new("id")).gt(after))
            .order_by_asc(Expr::col(Alias::new("id")))
            .limit(REBUILD_PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.provenance().id;
        index_records::<K, _>(db, &page).await?;
    }
}

/// Fills the search table from every table it indexes.
pub async fn rebuild<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    index_plan(db).await?;
    for kind in RecordKind::ALL {
        with_kind!(*kind, |K| index_kind::<K, _>(db).await)?;
    }
    Ok(())
}

/// Fills the search table when it is empty and there is something to index (a database
/// that predates it, or one loaded by other means).
pub async fn rebuild_if_empty(db: &DatabaseConnection) -> Result<bool, StoreError> {
    if search_entries::Entity::find().count(db).await? > 0
        || tasks::Entity::find().count(db).await? == 0
    {
        return Ok(false);
    }
    let txn = sea_orm::TransactionTrait::begin(db).await?;
    rebuild(&txn).await?;
    txn.commit().await?;
    Ok(true)
}

#[derive(FromQueryResult)]
struct Ranked {
    kind: String,
    record_id: i32,
    title: String,
    rank: i32,
}

/// Searches `kinds` for `text` — or, when `kinds` is `None`, tasks, agencies and every
/// record kind searched by default; at most `first` hits, best first.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    text: &str,
    kinds: Option<&[RecordKind]>,
    first: usize,
) -> Result<Vec<Hit>, StoreError> {
    let key = search_key(text);
    let words = query_words(&key);
    if words.is_empty() || first == 0 {
        return Ok(Vec::new());
    }
    let statement = ranking_statement(
        db.get_database_backend(),
        &key,
        &words,
        &sources(kinds),
        first,
    );
    Ok(Ranked::find_by_statement(statement)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(Hit {
                kind: HitKind::parse(&row.kind)?,
                id: row.record_id,
                title: row.title,
                score: 1.0 / (1.0 + f64::from(row.rank)),
            })
        })
        .collect())
}

/// Changes a search's hits are carried across at most; past that it is run again.
pub const MAX_CARRIED_CHANGES: i64 = 256;

/// A change in the log, with the search entry its record has now (none once deleted).
#[derive(Debug, Clone, FromQueryResult)]
struct ChangedEntry {
    seq: i64,
    kind: String,
    record_id: Option<i32>,
    key: Option<String>,
    active: Option<bool>,
}

/// Whether the hits of a search for `text` over `kinds`, read at log head `read_at`,
/// still answer it now. They do when every change logged since is of a record that is
/// neither among them nor now an active match of every word in a kind searched, and none
/// changed the plan (its tasks and agencies are searched too): such a write cannot add,
/// drop or reorder a hit. The log and the changed records' entries are read in one
/// statement, so one snapshot; with more than `MAX_CARRIED_CHANGES` changes, or any
/// missing (pruned), the answer is no.
pub async fn hits_still_current<C: ConnectionTrait>(
    db: &C,
    text: &str,
    kinds: Option<&[RecordKind]>,
    hits: &[Hit],
    read_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    if now < read_at || now - read_at > MAX_CARRIED_CHANGES {
        return Ok(false);
    }
    let mut params = Params {
        backend: db.get_database_backend(),
        values: Vec::new(),
    };
    let after = params.push(read_at);
    let limit = params.push(MAX_CARRIED_CHANGES + 1);
    let sql = format!(
        "SELECT c.seq, c.kind, c.record_id, e.key, e.active FROM change_log c \
         LEFT JOIN search_entries e \
           ON e.kind = c.kind AND e.record_id = c.record_id AND e.variant = 0 \
         WHERE c.seq > {after} ORDER BY c.seq LIMIT {limit}"
    );
    let changes = ChangedEntry::find_by_statement(Statement::from_sql_and_values(
        params.backend,
        sql,
        params.values,
    ))
    .all(db)
    .await?;
    let logged_up_to_now = changes.iter().filter(|change| change.seq <= now).count();
    if changes.len() as i64 > MAX_CARRIED_CHANGES || logged_up_to_now as i64 != now - read_at {
        return Ok(false);
    }
    let key = search_key(text);
    let words = query_words(&key);
    let sources = sources(kinds);
    let hits: HashSet<(HitKind, i32)> = hits.iter().map(|hit| (hit.kind, hit.id)).collect();
    Ok(changes
        .iter()
        .all(|change| change_keeps_hits(change, &words, &sources, &hits)))
}

/// Whether one logged change leaves a search's hits as they are (`hits_still_current`).
fn change_keeps_hits(
    change: &ChangedEntry,
    words: &[&str],
    sources: &[HitKind],
    hits: &HashSet<(HitKind, i32)>,
) -> bool {
    let (Ok(kind), Some(id)) = (RecordKind::parse(&change.kind), change.record_id) else {
        // A change to the plan, or one this rule does not know.
        return false;
    };
    let kind = HitKind::Record(kind);
    if hits.contains(&(kind, id)) {
        return false;
    }
    let matches_now = change.active == Some(true)
        && sources.contains(&kind)
        && change
            .key
            .as_deref()
            .is_some_and(|key| words.iter().all(|word| key.contains(word)));
    !matches_now
}

/// What a search looks at, in the order that breaks ties: the kinds asked for, or
/// tasks, agencies and every record kind.
fn sources(kinds: Option<&[RecordKind]>) -> Vec<HitKind> {
    match kinds {
        Some(kinds) => kinds.iter().map(|k| HitKind::Record(*k)).collect(),
        None => [HitKind::Task, HitKind::Agency]
            .into_iter()
            .chain(RecordKind::ALL.iter().map(|k| HitKind::Record(*k)))
            .collect(),
    }
}

/// Placeholders and their values, numbered as the backend wants them.
struct Params {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Params {
    fn push(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        // Numbered on both backends, since the ranking uses some values twice.
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => format!("?{}", self.values.len()),
        }
    }
}

/// The rank of a folded column against the query, as `match_rank` gives it: 0 exact,
/// 1 prefix, 2 the words as a run of whole words, 3 every word starting a word, else 4.
fn rank_of(column: &str, q: &str, prefix: &str, phrase: &str, starts: &[String]) -> [String; 4] {
    let padded = format!("(' ' || {column} || ' ')");
    let every_start = starts
        .iter()
        .map(|p| format!("(' ' || {column}) LIKE {p}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    [
        format!("{column} = {q}"),
        format!("{column} LIKE {prefix}"),
        format!("{padded} LIKE {phrase}"),
        format!("({every_start})"),
    ]
}

/// The FTS5 rows whose key holds every word. A word of three characters or more is a
/// phrase of the trigram index (`MATCH`), which the index's positions answer alone; a
/// `LIKE` would read every candidate's key back to check it (2.5 ms against 0.5 ms for
/// "xoai cao lanh" over two million entries). The trigram index cannot match shorter
/// words, which are checked with `LIKE` on the rows the phrases leave.
fn fts_condition(params: &mut Params, words: &[&str]) -> String {
    let (phrases, short): (Vec<&str>, Vec<&str>) =
        words.iter().partition(|w| w.chars().count() >= 3);
    let mut conditions = Vec::new();
    if !phrases.is_empty() {
        let query = phrases
            .iter()
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" AND ");
        conditions.push(format!("search_entries_fts MATCH {}", params.push(query)));
    }
    for word in short {
        conditions.push(format!("key LIKE {}", params.push(format!("%{word}%"))));
    }
    conditions.join(" AND ")
}

/// One statement: the entries of `sources` whose key holds every word, ranked and
/// grouped by what they point at, best first.
fn ranking_statement(
    backend: DbBackend,
    key: &str,
    words: &[&str],
    sources: &[HitKind],
    first: usize,
) -> Statement {
    let mut params = Params {
        backend,
        values: Vec::new(),
    };
    let q = params.push(key.to_owned());
    let prefix = params.push(format!("{key}%"));
    let phrase = params.push(format!("% {key} %"));
    let starts: Vec<String> = words
        .iter()
        .map(|w| params.push(format!("% {w}%")))
        .collect();
    let by_key = rank_of("e.key", &q, &prefix, &phrase, &starts);
    let by_title = rank_of("e.title_key", &q, &prefix, &phrase, &starts);
    let tiers = (0..4)
        .map(|i| format!("WHEN {} OR {} THEN {i}", by_key[i], by_title[i]))
        .collect::<Vec<_>>()
        .join(" ");
    let kinds = sources
        .iter()
        .map(|s| params.push(s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let order = sources
        .iter()
        .enumerate()
        .map(|(i, s)| format!("WHEN '{}' THEN {i}", s.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    let (candidates, bytes) = match backend {
        DbBackend::Postgres => {
            let contains = words
                .iter()
                .map(|w| format!("e.key LIKE {}", params.push(format!("%{w}%"))))
                .collect::<Vec<_>>();
            (contains.join(" AND "), "octet_length(title)")
        }
        _ => (
            format!(
                "e.id IN (SELECT rowid FROM search_entries_fts WHERE {})",
                fts_condition(&mut params, words)
            ),
            "length(CAST(title AS BLOB))",
        ),
    };
    let limit = params.push(first as i64);
    let sql = format!(
        "SELECT kind, record_id, MIN(title) AS title, MIN(rank) AS rank FROM ( \
           SELECT e.kind, e.record_id, e.title, CASE {tiers} ELSE 4 END AS rank \
           FROM search_entries e \
           WHERE e.active AND e.kind IN ({kinds}) AND {candidates} \
         ) c GROUP BY kind, record_id \
         ORDER BY MIN(rank), MIN({bytes}), record_id, CASE kind {order} END \
         LIMIT {limit}"
    );
    Statement::from_sql_and_values(backend, sql, params.values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_numbers_postgres_placeholders_and_lists_every_word() {
        let statement = ranking_statement(
            DbBackend::Postgres,
            "xoai cao lanh",
            &["xoai", "cao", "lanh"],
            &[HitKind::Task, HitKind::Record(RecordKind::IpRight)],
            20,
        );
        let sql = statement.sql;
        assert!(sql.contains("e.key LIKE $9"), "{sql}");
        assert!(sql.contains("LIMIT $12"), "{sql}");
        assert!(!sql.contains('?'), "{sql}");
        assert_eq!(
            sql.matches("$1 ").count() + sql.matches("$1)").count(),
            2,
            "{sql}"
        );
        let sqlite = ranking_statement(DbBackend::Sqlite, "xoai", &["xoai"], &[HitKind::Agency], 5);
        assert!(sqlite.sql.contains("search_entries_fts"), "{}", sqlite.sql);
    }

    #[test]
    fn a_change_keeps_hits_unless_it_touches_one_or_now_matches() {
        let ocop = HitKind::Record(RecordKind::OcopProduct);
        let hits: HashSet<(HitKind, i32)> = [(ocop, 1), (HitKind::Task, 7)].into();
        let sources = [ocop, HitKind::Record(RecordKind::Startup)];
        let words = ["xoai", "lanh"];
        let cases = [
            (
                "STARTUP",
                Some(5),
                Some("khoi nghiep"),
                true,
                true,
                "no match",
            ),
            (
                "STARTUP",
                Some(5),
                Some("xoai cao lanh"),
                true,
                false,
                "a new match",
            ),
            (
                "STARTUP",
                Some(5),
                Some("xoai cao lanh"),
                false,
                true,
                "inactive",
            ),
            ("STARTUP", Some(5), None, true, true, "deleted"),
            (
                "IP_RIGHT",
                Some(5),
                Some("xoai cao lanh"),
                true,
                true,
                "a kind not searched",
            ),
            (
                "OCOP_PRODUCT",
                Some(1),
                Some("nem"),
                true,
                false,
                "a hit changed",
            ),
            ("OCOP_PRODUCT", Some(1), None, true, false, "a hit deleted"),
            ("PLAN", None, None, true, false, "the plan changed"),
        ];
        for (kind, record_id, key, active, keeps, why) in cases {
            let change = ChangedEntry {
                seq: 1,
                kind: kind.to_owned(),
                record_id,
                key: key.map(str::to_owned),
                active: key.map(|_| active),
            };
            assert_eq!(
                change_keeps_hits(&change, &words, &sources, &hits),
                keeps,
                "{why}"
            );
        }
    }

    #[test]
    fn words_the_trigram_index_can_match_are_phrases_and_shorter_ones_likes() {
        let mut params = Params {
            backend: DbBackend::Sqlite,
            values: Vec::new(),
        };
        let condition = fts_condition(&mut params, &["xoai", "ca", "la\"nh"]);
        assert_eq!(
            condition, "search_entries_fts MATCH ?1 AND key LIKE ?2",
            "one MATCH for the long words, a LIKE for each short one"
        );
        assert_eq!(
            params.values,
            vec![Value::from(r#""xoai" AND "la""nh""#), Value::from("%ca%")]
        );

        let mut params = Params {
            backend: DbBackend::Sqlite,
            values: Vec::new(),
        };
        assert_eq!(
            fts_condition(&mut params, &["ca", "le"]),
            "key LIKE ?1 AND key LIKE ?2",
            "no phrase when every word is short"
        );
    }
}
