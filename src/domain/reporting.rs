//! The plan's reporting rule. Section IV.2 of 136/KH-UBND: "Các Sở, ngành Tỉnh, Ủy ban nhân
//! dân huyện, thành phố: … Báo cáo định kỳ hàng năm kết quả thực hiện về Ủy ban nhân dân
//! Tỉnh (qua Sở KHCN tổng hợp) trước ngày 15 tháng 12 hàng năm." Who those words cover is
//! decided by a body's kind; whether it owes a given year's report, by the days it existed.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

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

/// What a body is, as far as the reporting rule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// A specialised agency of the Provincial People's Committee (Sở, Văn phòng, Thanh tra).
    Department,
    /// The People's Committee of a district or district-level city.
    DistrictCommittee,
    /// The Provincial People's Committee or Council: they receive the reports.
    ProvincialAuthority,
    /// The Fatherland Front and the unions the plan only asks to coordinate ("Đề nghị").
    MassOrganisation,
    /// A provincial office of a central agency.
    CentralAgency,
    /// A school, centre or other public service unit.
    PublicUnit,
    /// A cooperative alliance or other association.
    Association,
}

impl BodyKind {
    pub const ALL: [BodyKind; 7] = [
        BodyKind::Department,
        BodyKind::DistrictCommittee,
        BodyKind::ProvincialAuthority,
        BodyKind::MassOrganisation,
        BodyKind::CentralAgency,
        BodyKind::PublicUnit,
        BodyKind::Association,
    ];

    /// Stored form, as written in `seed/reporting-bodies.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::Department => "department",
            BodyKind::DistrictCommittee => "district_committee",
            BodyKind::ProvincialAuthority => "provincial_authority",
            BodyKind::MassOrganisation => "mass_organisation",
            BodyKind::CentralAgency => "central_agency",
            BodyKind::PublicUnit => "public_unit",
            BodyKind::Association => "association",
        }
    }

    /// The name clients see (`DISTRICT_COMMITTEE`).
    pub fn api_name(self) -> &'static str {
        match self {
            BodyKind::Department => "DEPARTMENT",
            BodyKind::DistrictCommittee => "DISTRICT_COMMITTEE",
            BodyKind::ProvincialAuthority => "PROVINCIAL_AUTHORITY",
            BodyKind::MassOrganisation => "MASS_ORGANISATION",
            BodyKind::CentralAgency => "CENTRAL_AGENCY",
            BodyKind::PublicUnit => "PUBLIC_UNIT",
            BodyKind::Association => "ASSOCIATION",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// "Các Sở, ngành Tỉnh, Ủy ban nhân dân huyện, thành phố": departments and district
    /// committees, nobody else.
    pub fn owes_yearly_report(self) -> bool {
        matches!(self, BodyKind::Department | BodyKind::DistrictCommittee)
    }
}

/// Where a body stands with the yearly report for one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Of an obliged kind and in existence on the deadline: it owes the report.
    Owes,
    /// Of an obliged kind, existed during the year, ceased before the deadline.
    Ceased { last_day: NaiveDate },
    /// Not of an obliged kind, or not in existence during the year at all.
    None,
}

/// Whether a body of `kind` that existed from `from` to `until` (inclusive, `None` for
/// open ends) owes the report for `year`. A body owes it when it is of an obliged kind and
/// exists on the deadline; one that ceased during the year before the deadline is ceased,
/// not owing. A body of unknown kind owes nothing.
pub fn yearly_report_duty(
    kind: Option<BodyKind>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    year: i32,
) -> Duty {
    let (Some(kind), Some(deadline)) = (kind, due_date(year)) else {
        return Duty::None;
    };
    if !kind.owes_yearly_report() || from.is_some_and(|from| from > deadline) {
        return Duty::None;
    }
    match until {
        Some(last_day) if last_day < deadline => {
            if last_day.year() >= year {
                Duty::Ceased { last_day }
            } else {
                Duty::None
            }
        }
        _ => Duty::Owes,
    }
}

/// Where a body's report for a year stands, as of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// Submitted before the deadline.
    OnTime,
    /// Submitted on or after the deadline.
    Late,
    /// Owed, not submitted, deadline passed.
    Overdue,
    /// Owed, not submitted, deadline still ahead.
    NotYetDue,
    /// The body ceased before the deadline: it owes nothing.
    Ceased,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 5] = [
        ReportStatus::OnTime,
        ReportStatus::Late,
        ReportStatus::Overdue,
        ReportStatus::NotYetDue,
        ReportStatus::Ceased,
    ];

    pub fn api_name(self) -> &'static str {
        match self {
            ReportStatus::OnTime => "ON_TIME",
            ReportStatus::Late => "LATE",
            ReportStatus::Overdue => "OVERDUE",
            ReportStatus::NotYetDue => "NOT_YET_DUE",
            ReportStatus::Ceased => "CEASED",
        }
    }

    /// Overdue in the sense of `overdueReports`: owed and not in on time.
    pub fn is_overdue(self) -> bool {
        matches!(self, ReportStatus::Late | ReportStatus::Overdue)
    }
}

/// The status of a body's report for `year` on `today`, given its duty and the day its
/// report arrived; `None` when the rule does not apply to the body.
pub fn report_status(
    duty: Duty,
    submitted_on: Option<NaiveDate>,
    year: i32,
    today: NaiveDate,
) -> Option<ReportStatus> {
    match duty {
        Duty::None => None,
        Duty::Ceased { .. } => Some(ReportStatus::Ceased),
        Duty::Owes if submitted_on_time(year, submitted_on) => Some(ReportStatus::OnTime),
        Duty::Owes if submitted_on.is_some() => Some(ReportStatus::Late),
        Duty::Owes if deadline_passed(year, today) => Some(ReportStatus::Overdue),
        Duty::Owes => Some(ReportStatus::NotYetDue),
    }
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
    fn only_departments_and_district_committees_owe_the_report() {
        for kind in BodyKind::ALL {
            let owes = yearly_report_duty(Some(kind), None, None, 2024) == Duty::Owes;
            assert_eq!(
                owes,
                matches!(kind, BodyKind::Department | BodyKind::DistrictCommittee),
                "{kind:?}"
            );
            assert_eq!(BodyKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(yearly_report_duty(None, None, None, 2024), Duty::None);
    }

    #[test]
    fn a_body_owes_the_report_when_it_exists_on_the_deadline() {
        let district = Some(BodyKind::DistrictCommittee);
        let last_day = day(2025, 6, 30);
        assert_eq!(
            yearly_report_duty(district, None, Some(last_day), 2024),
            Duty::Owes
        );
        assert_eq!(
            yearly_report_duty(district, None, Some(last_day), 2025),
            Duty::Ceased { last_day }
        );
        assert_eq!(
            yearly_report_duty(district, None, Some(last_day), 2026),
            Duty::None,
            "gone before the year began"
        );
        let department = Some(BodyKind::Department);
        let merged = Some(day(2025, 3, 1));
        assert_eq!(
            yearly_report_duty(department, merged, None, 2024),
            Duty::None
        );
        assert_eq!(
            yearly_report_duty(department, merged, None, 2025),
            Duty::Owes
        );
        assert_eq!(
            yearly_report_duty(department, None, Some(day(2025, 12, 15)), 2025),
            Duty::Owes,
            "still there on the deadline"
        );
        assert_eq!(
            yearly_report_duty(department, Some(day(2025, 12, 15)), None, 2025),
            Duty::Owes
        );
        assert_eq!(
            yearly_report_duty(department, Some(day(2025, 12, 16)), None, 2025),
            Duty::None
        );
    }

    #[test]
    fn a_status_follows_the_duty_and_the_day_the_report_arrived() {
        let owes = Duty::Owes;
        let before = day(2024, 12, 1);
        let after = day(2024, 12, 20);
        assert_eq!(report_status(Duty::None, None, 2024, after), None);
        assert_eq!(
            report_status(
                Duty::Ceased {
                    last_day: day(2024, 6, 30)
                },
                None,
                2024,
                after
            ),
            Some(ReportStatus::Ceased)
        );
        assert_eq!(
            report_status(owes, Some(day(2024, 12, 14)), 2024, after),
            Some(ReportStatus::OnTime)
        );
        assert_eq!(
            report_status(owes, Some(day(2024, 12, 15)), 2024, after),
            Some(ReportStatus::Late)
        );
        assert_eq!(
            report_status(owes, None, 2024, after),
            Some(ReportStatus::Overdue)
        );
        assert_eq!(
            report_status(owes, None, 2024, before),
            Some(ReportStatus::NotYetDue)
        );
        assert!(ReportStatus::Late.is_overdue() && !ReportStatus::Ceased.is_overdue());
    }

    #[test]
    fn reports_become_overdue_on_the_fifteenth() {
        assert!(!deadline_passed(2024, day(2024, 12, 14)));
        assert!(deadline_passed(2024, day(2024, 12, 15)));
        assert!(deadline_passed(2024, day(2026, 1, 1)));
    }
}
