//! The plan's reporting rule: every agency reports its yearly results to the Provincial
//! People's Committee, through the Department of Science and Technology, *before*
//! 15 December of each year ("trước ngày 15 tháng 12 hàng năm").

use chrono::NaiveDate;

/// Reporting month and day of the plan (a report is due strictly before this day).
pub const DUE_MONTH: u32 = 12;
pub const DUE_DAY: u32 = 15;

/// The first day on which a report for `year` is late.
pub fn due_date(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, DUE_MONTH, DUE_DAY)
}

/// Whether a report for `year` submitted on `submitted_on` met the deadline.
pub fn submitted_on_time(year: i32, submitted_on: Option<NaiveDate>) -> bool {
    match (submitted_on, due_date(year)) {
        (Some(submitted), Some(due)) => submitted < due,
        _ => false,
    }
}

/// Whether, on `today`, a report for `year` that has not arrived on time is overdue.
pub fn deadline_passed(year: i32, today: NaiveDate) -> bool {
    due_date(year).is_some_and(|due| today >= due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_report_is_on_time_only_before_the_fifteenth_of_december() {
        assert!(submitted_on_time(2024, Some(day(2024, 12, 14))));
        assert!(!submitted_on_time(2024, Some(day(2024, 12, 15))));
        assert!(!submitted_on_time(2024, Some(day(2025, 1, 3))));
        assert!(!submitted_on_time(2024, None));
        assert!(submitted_on_time(2024, Some(day(2024, 3, 1))));
    }

    #[test]
    fn reports_become_overdue_on_the_fifteenth() {
        assert!(!deadline_passed(2024, day(2024, 12, 14)));
        assert!(deadline_passed(2024, day(2024, 12, 15)));
        assert!(deadline_passed(2024, day(2026, 1, 1)));
    }
}
