//! How each key target's progress is computed from records. This is the one place the
//! rules live; the API, the dashboard and the exports all call it.
//!
//! | target | counts |
//! |---|---|
//! | `ST_TASKS` | S&T tasks (not cancelled, not archived or withdrawn) linked to a task of the plan and carried out during the period, those continued from before it included; year = the start year, or the period's first year for a continued task |
//! | `APPLICATION_MODELS` | application models transferred in the plan period; year = year transferred |
//! | `STARTUPS` | distinct startups with a support event in the plan period; year = first such event |
//! | `IP_ABROAD` | distinct farm products with an IP right registered (status REGISTERED) outside Vietnam; year = the first such registration. Products with an application filed abroad and none granted are shown beside it and do not count |
//! | `TECHNOLOGY_ASSESSMENT` | the key industries (`seed/key-industries.toml`) whose enterprises have been assessed in the plan period; year = the first assessment in each. Done when every key industry listed is covered; with none listed, never done. Coverage of every industry assessed is shown beside it |
//!
//! The plan period runs from the plan's issue year to the target's due year; records of
//! other years do not count. A record whose year is unknown counts, in the first year.
//!
//! **On track**: the actual value is at least the straight-line path from zero on the
//! plan's issue date to the target on 31 December of the due year, read on the day
//! asked about (today by default). After the due date, on track means the target is met.

use std::collections::BTreeMap;
use std::hash::Hash;

use chrono::{Datelike, NaiveDate};

use super::plan::TargetKind;

/// One record that counts towards a target, with the year it counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution<R> {
    pub record: R,
    pub year: Option<i32>,
}

/// The cumulative value at the end of one year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearPoint {
    pub year: i32,
    /// Counted by the end of the year.
    pub value: i64,
    /// Where the straight-line path to the target stands at the end of the year.
    pub planned: f64,
    /// Whether `value` is on the path at the end of the year (see `ON_TRACK_RULE`).
    pub on_track: bool,
}

/// The on-track rule, as the API and the dashboard state it.
pub const ON_TRACK_RULE: &str = "On track when the value counted is at least the \
    straight-line path from zero on the plan's issue date to the target on 31 December \
    of the due year (rounded down to a whole record), on the day read; after the due \
    date, when the target is met.";

/// The rule itself: `actual` against the path's `planned` value.
fn on_path(actual: i64, planned: f64) -> bool {
    actual as f64 + 1e-9 >= planned.floor()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub actual: i64,
    /// `actual / target`; for a completion target 1.0 once done, else 0.0.
    pub ratio: f64,
    pub on_track: bool,
    /// Where the straight-line path stands on the day asked about.
    pub expected: f64,
    pub by_year: Vec<YearPoint>,
}

/// The plan period a target is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub due_year: i32,
}

impl Period {
    fn end(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.due_year, 12, 31).unwrap_or(self.start)
    }

    /// Share of the period elapsed on `day`, from 0 to 1.
    pub fn elapsed(&self, day: NaiveDate) -> f64 {
        let total = (self.end() - self.start).num_days().max(1) as f64;
        let done = (day - self.start).num_days() as f64;
        (done / total).clamp(0.0, 1.0)
    }

    /// Whether records of `year` count (an unknown year counts).
    pub fn counts(&self, year: Option<i32>) -> bool {
        year.is_none_or(|y| (self.start.year()..=self.due_year).contains(&y))
    }
}

/// The year an S&T task counts in for `ST_TASKS`: "triển khai" means carried out, so a
/// task that started before the period and went on into it ("Tiếp tục thực hiện")
/// counts, in the period's first year; one that ended before the period does not
/// (its year is returned as it is, outside the period). Unknown dates count.
pub fn carried_out_year(first: i32, start: Option<i32>, end: Option<i32>) -> Option<i32> {
    match (start, end) {
        (Some(start), Some(end)) if end < first => Some(start.min(end)),
        (Some(start), _) if start < first => Some(first),
        (start, _) => start,
    }
}

/// One contribution per key (for `IP_ABROAD`, per product: "ít nhất 01 sản phẩm" counts
/// products, not the rights registered for them), the earliest of each; an unknown year
/// counts as the earliest, as in [`counted`].
pub fn first_per_key<K: Ord, R>(
    items: impl IntoIterator<Item = (K, Contribution<R>)>,
) -> Vec<Contribution<R>> {
    let mut first: BTreeMap<K, Contribution<R>> = BTreeMap::new();
    for (key, contribution) in items {
        let earlier = |kept: &Contribution<R>| {
            contribution.year.unwrap_or(i32::MIN) < kept.year.unwrap_or(i32::MIN)
        };
        match first.get(&key) {
            Some(kept) if !earlier(kept) => {}
            _ => {
                first.insert(key, contribution);
            }
        }
    }
    first.into_values().collect()
}

/// One line of what a target's figure is made of, shown beside it: for `IP_ABROAD`,
/// products granted and products only filed; for `TECHNOLOGY_ASSESSMENT`, each industry
/// assessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    /// `GRANTED`, `FILED`, or the industry as written (`None`: not stated).
    pub key: Option<String>,
    /// Distinct products, or distinct enterprises assessed.
    pub count: i64,
    /// Records behind the line (rights, assessments).
    pub records: i64,
    /// Whether the line counts towards the target.
    pub counts: bool,
}

/// `IP_ABROAD` split into products with a right granted abroad (counting) and products
/// with an application filed abroad and nothing granted yet (not counting). Each input is
/// a farm product's key and whether that right was granted.
pub fn filed_and_granted(rights: &[(String, bool)]) -> Vec<BreakdownRow> {
    use std::collections::BTreeSet;
    let granted_products: BTreeSet<&str> = rights
        .iter()
        .filter(|(_, granted)| *granted)
        .map(|(product, _)| product.as_str())
        .collect();
    let filed_products: BTreeSet<&str> = rights
        .iter()
        .map(|(product, _)| product.as_str())
        .filter(|product| !granted_products.contains(product))
        .collect();
    let granted_rights = rights.iter().filter(|(_, granted)| *granted).count();
    vec![
        BreakdownRow {
            key: Some("GRANTED".to_owned()),
            count: granted_products.len() as i64,
            records: granted_rights as i64,
            counts: true,
        },
        BreakdownRow {
            key: Some("FILED".to_owned()),
            count: filed_products.len() as i64,
            records: (rights.len() - granted_rights) as i64,
            counts: false,
        },
    ]
}

/// Technology assessments by industry: distinct enterprises and assessments in each, in
/// industry order (not stated last); an industry counts when it is a key industry. Each
/// input is (industry as written, its folded key, enterprise key); `key_industries` are
/// folded keys.
pub fn industry_coverage(
    assessments: &[(Option<String>, Option<String>, String)],
    key_industries: &[String],
) -> Vec<BreakdownRow> {
    use std::collections::BTreeSet;
    let mut by_industry: BTreeMap<Option<String>, (String, BTreeSet<&str>, i64)> = BTreeMap::new();
    for (written, folded, enterprise) in assessments {
        let entry = by_industry
            .entry(folded.clone())
            .or_insert_with(|| (written.clone().unwrap_or_default(), BTreeSet::new(), 0));
        entry.1.insert(enterprise.as_str());
        entry.2 += 1;
    }
    let mut rows: Vec<BreakdownRow> = by_industry
        .into_iter()
        .map(|(folded, (written, enterprises, records))| BreakdownRow {
            counts: folded.as_ref().is_some_and(|f| key_industries.contains(f)),
            key: folded.map(|_| written),
            count: enterprises.len() as i64,
            records,
        })
        .collect();
    // BTreeMap puts `None` first; the unstated industry reads best last.
    let unstated_first = rows.first().is_some_and(|r| r.key.is_none());
    rows.rotate_left(usize::from(unstated_first));
    rows
}

/// Whether `TECHNOLOGY_ASSESSMENT` is done: every key industry has been assessed. With no
/// key industry recorded it cannot be said to be done.
pub fn industries_done(covered: usize, key_industries: usize) -> bool {
    key_industries > 0 && covered >= key_industries
}

/// `TECHNOLOGY_ASSESSMENT`'s progress: a straight line to every key industry assessed, one
/// contribution per key industry. With no key industry recorded nothing can be judged: the
/// figure is the industries counted (none), never done, never on track.
pub fn key_industry_progress<R: Copy + Eq + Hash + Ord>(
    key_industries: usize,
    period: Period,
    contributions: &[Contribution<R>],
    today: NaiveDate,
) -> Progress {
    let goal = i32::try_from(key_industries).unwrap_or(i32::MAX);
    let mut measured = progress(TargetKind::Count, Some(goal), period, contributions, today);
    measured.ratio = measured.ratio.min(1.0);
    if key_industries == 0 {
        measured.ratio = 0.0;
        measured.on_track = false;
        for point in &mut measured.by_year {
            point.on_track = false;
        }
    }
    measured
}

/// The value a target is measured against: its number, or 1 for a completion target.
pub fn goal(kind: TargetKind, target_value: Option<i32>) -> i64 {
    match kind {
        TargetKind::Count => i64::from(target_value.unwrap_or(0)),
        TargetKind::Completion => 1,
    }
}

/// The contributions that count: those within the period, each record once, in its
/// earliest year (a startup supported in 2022 and 2024 counts once, in 2022).
pub fn counted<R: Copy + Eq + Hash + Ord>(
    period: Period,
    contributions: &[Contribution<R>],
) -> Vec<Contribution<R>> {
    let first_year = period.start.year();
    let mut earliest: BTreeMap<R, i32> = BTreeMap::new();
    for contribution in contributions.iter().filter(|c| period.counts(c.year)) {
        let year = contribution.year.unwrap_or(first_year);
        earliest
            .entry(contribution.record)
            .and_modify(|y| *y = (*y).min(year))
            .or_insert(year);
    }
    earliest
        .into_iter()
        .map(|(record, year)| Contribution {
            record,
            year: Some(year),
        })
        .collect()
}

/// Computes a target's progress from the records that count towards it.
pub fn progress<R: Copy + Eq + Hash + Ord>(
    kind: TargetKind,
    target_value: Option<i32>,
    period: Period,
    contributions: &[Contribution<R>],
    today: NaiveDate,
) -> Progress {
    let goal = goal(kind, target_value);
    let first_year = period.start.year();
    let mut per_year: BTreeMap<i32, i64> = BTreeMap::new();
    for contribution in counted(period, contributions) {
        let year = contribution.year.unwrap_or(first_year);
        *per_year.entry(year).or_default() += 1;
    }
    let actual: i64 = per_year.values().sum();
    let mut running = 0;
    let by_year = (first_year..=period.due_year)
        .map(|year| {
            running += per_year.get(&year).copied().unwrap_or(0);
            let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(period.start);
            let planned = goal as f64 * period.elapsed(year_end);
            YearPoint {
                year,
                value: running,
                planned,
                on_track: on_path(running, planned),
            }
        })
        .collect();
    let expected = goal as f64 * period.elapsed(today);
    let ratio = match kind {
        TargetKind::Completion => {
            if actual >= 1 {
                1.0
            } else {
                0.0
            }
        }
        TargetKind::Count if goal > 0 => actual as f64 / goal as f64,
        TargetKind::Count => 1.0,
    };
    let on_track = if today > period.end() {
        actual >= goal
    } else {
        on_path(actual, expected)
    };
    Progress {
        actual,
        ratio,
        on_track,
        expected,
        by_year,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn period() -> Period {
        Period {
            start: day(2022, 4, 21),
            due_year: 2025,
        }
    }

    fn years(years: &[Option<i32>]) -> Vec<Contribution<usize>> {
        years
            .iter()
            .enumerate()
            .map(|(i, y)| Contribution {
                record: i,
                year: *y,
            })
            .collect()
    }

    #[test]
    fn a_record_counts_once_in_its_earliest_year_within_the_period() {
        let events = [
            Contribution {
                record: 7,
                year: Some(2021),
            },
            Contribution {
                record: 7,
                year: Some(2024),
            },
            Contribution {
                record: 7,
                year: Some(2023),
            },
            Contribution {
                record: 8,
                year: Some(2025),
            },
        ];
        let p = progress(
            TargetKind::Count,
            Some(20),
            period(),
            &events,
            day(2026, 1, 1),
        );
        assert_eq!(p.actual, 2);
        let values: Vec<i64> = p.by_year.iter().map(|y| y.value).collect();
        assert_eq!(values, [0, 1, 1, 2]);
    }

    #[test]
    fn counts_accumulate_by_year() {
        let p = progress(
            TargetKind::Count,
            Some(20),
            period(),
            &years(&[Some(2022), Some(2023), Some(2023), None, Some(2025)]),
            day(2026, 1, 1),
        );
        assert_eq!(p.actual, 5);
        let values: Vec<i64> = p.by_year.iter().map(|y| y.value).collect();
        assert_eq!(values, [2, 4, 4, 5]);
        assert_eq!(p.by_year.last().unwrap().planned, 20.0);
        assert!((p.ratio - 0.25).abs() < 1e-9);
        assert!(!p.on_track, "past the due date, on track means met");
    }

    #[test]
    fn on_track_follows_the_straight_line_during_the_period() {
        // Halfway through the period, 10 of 20 is on track and 8 is not.
        let mid = day(2024, 2, 25);
        let ten = years(&[Some(2022); 10]);
        assert!(progress(TargetKind::Count, Some(20), period(), &ten, mid).on_track);
        let eight = years(&[Some(2022); 8]);
        assert!(!progress(TargetKind::Count, Some(20), period(), &eight, mid).on_track);
        // Before anything is due, nothing is behind.
        assert!(
            progress(
                TargetKind::Count,
                Some(20),
                period(),
                &years(&[]),
                day(2022, 4, 22)
            )
            .on_track
        );
    }

    #[test]
    fn a_completion_target_is_done_at_one() {
        let done = progress(
            TargetKind::Completion,
            None,
            period(),
            &years(&[Some(2023)]),
            day(2026, 1, 1),
        );
        assert_eq!((done.actual, done.ratio, done.on_track), (1, 1.0, true));
        let not_done = progress(
            TargetKind::Completion,
            None,
            period(),
            &years(&[]),
            day(2026, 1, 1),
        );
        assert_eq!((not_done.ratio, not_done.on_track), (0.0, false));
    }

    #[test]
    fn a_task_continued_into_the_period_counts_in_its_first_year() {
        let p = period();
        assert_eq!(carried_out_year(2022, Some(2020), Some(2023)), Some(2022));
        assert_eq!(carried_out_year(2022, Some(2020), None), Some(2022));
        assert_eq!(carried_out_year(2022, Some(2024), Some(2026)), Some(2024));
        assert_eq!(carried_out_year(2022, None, None), None);
        // Ended before the plan: outside the period, so not counted.
        let ended = carried_out_year(2022, Some(2019), Some(2021));
        assert!(!p.counts(ended));
        let counted = counted(
            p,
            &[Contribution {
                record: 1,
                year: carried_out_year(2022, Some(2020), Some(2023)),
            }],
        );
        assert_eq!(counted.len(), 1);
    }

    #[test]
    fn a_product_counts_once_however_many_rights_it_has() {
        let rights = [
            (
                "xoai",
                Contribution {
                    record: 1,
                    year: Some(2024),
                },
            ),
            (
                "xoai",
                Contribution {
                    record: 2,
                    year: Some(2023),
                },
            ),
            (
                "sen",
                Contribution {
                    record: 3,
                    year: None,
                },
            ),
        ];
        let kept = first_per_key(rights);
        assert_eq!(
            kept,
            vec![
                Contribution {
                    record: 3,
                    year: None
                },
                Contribution {
                    record: 2,
                    year: Some(2023)
                },
            ]
        );
    }

    #[test]
    fn products_granted_abroad_count_and_products_only_filed_are_shown_apart() {
        let rights = [
            ("xoai".to_owned(), true),
            ("xoai".to_owned(), false),
            ("sen".to_owned(), false),
            ("sen".to_owned(), false),
        ];
        let rows = filed_and_granted(&rights);
        assert_eq!(
            (
                rows[0].key.as_deref(),
                rows[0].count,
                rows[0].records,
                rows[0].counts
            ),
            (Some("GRANTED"), 1, 1, true)
        );
        assert_eq!(
            (
                rows[1].key.as_deref(),
                rows[1].count,
                rows[1].records,
                rows[1].counts
            ),
            (Some("FILED"), 1, 3, false),
            "the mango, granted elsewhere, is not also 'only filed'"
        );
    }

    #[test]
    fn coverage_is_by_industry_and_done_only_when_every_key_industry_is_assessed() {
        let row = |written: Option<&str>, enterprise: &str| {
            (
                written.map(str::to_owned),
                written.map(crate::domain::text::search_key),
                enterprise.to_owned(),
            )
        };
        let assessments = [
            row(Some("Chế biến thực phẩm"), "a"),
            row(Some("chế biến thực phẩm"), "a"),
            row(Some("Chế biến thực phẩm"), "b"),
            row(None, "c"),
            row(Some("Cơ khí"), "d"),
        ];
        let key = vec![crate::domain::text::search_key("Chế biến thực phẩm")];
        let rows = industry_coverage(&assessments, &key);
        let summary: Vec<_> = rows
            .iter()
            .map(|r| (r.key.as_deref(), r.count, r.records, r.counts))
            .collect();
        assert_eq!(
            summary,
            [
                (Some("Chế biến thực phẩm"), 2, 3, true),
                (Some("Cơ khí"), 1, 1, false),
                (None, 1, 1, false),
            ]
        );
        assert!(industries_done(1, 1));
        assert!(!industries_done(0, 1));
        assert!(
            !industries_done(3, 0),
            "no key industry recorded: never done"
        );
    }

    #[test]
    fn records_outside_the_period_do_not_count() {
        let p = progress(
            TargetKind::Count,
            Some(1),
            period(),
            &years(&[Some(2019), Some(2030), Some(2024)]),
            day(2026, 1, 1),
        );
        assert_eq!(p.actual, 1);
        assert!(p.on_track);
    }
}
