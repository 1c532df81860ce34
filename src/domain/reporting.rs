//! The plan's reporting rule: every agency reports its yearly results to the Provincial
//! People's Committee, through the Department of Science and Technology, *before*
//! 15 December of each year ("trước ngày 15 tháng 12 hàng năm").

use chrono::NaiveDate;

use super::auth::{Caller, Role};

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

/// Whose report a caller may draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAccess {
    Allowed,
    /// No token: sign in first.
    SignInFirst,
    Forbidden,
}

/// Admins and analysts read every report; an agency reads its own report only (not the
/// consolidated one, not another agency's); anonymous callers none.
pub fn report_access(caller: &Caller, agency: Option<&str>) -> ReportAccess {
    match caller {
        Caller::Anonymous => ReportAccess::SignInFirst,
        Caller::Token {
            role: Role::Admin | Role::Analyst,
            ..
        } => ReportAccess::Allowed,
        Caller::Token {
            role: Role::Agency,
            agency_code,
            ..
        } => match (agency, agency_code.as_deref()) {
            (Some(wanted), Some(own)) if wanted == own => ReportAccess::Allowed,
            _ => ReportAccess::Forbidden,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(role: Role, agency: Option<&str>) -> Caller {
        Caller::Token {
            token_id: 1,
            role,
            agency_id: agency.map(|_| 7),
            agency_code: agency.map(str::to_owned),
        }
    }

    #[test]
    fn an_agency_drafts_only_its_own_report() {
        let agency = token(Role::Agency, Some("so-khcn"));
        assert_eq!(
            report_access(&agency, Some("so-khcn")),
            ReportAccess::Allowed
        );
        assert_eq!(
            report_access(&agency, Some("so-tc")),
            ReportAccess::Forbidden
        );
        assert_eq!(report_access(&agency, None), ReportAccess::Forbidden);
        for role in [Role::Admin, Role::Analyst] {
            assert_eq!(
                report_access(&token(role, None), None),
                ReportAccess::Allowed
            );
            assert_eq!(
                report_access(&token(role, None), Some("so-tc")),
                ReportAccess::Allowed
            );
        }
        assert_eq!(
            report_access(&Caller::Anonymous, None),
            ReportAccess::SignInFirst
        );
    }

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
