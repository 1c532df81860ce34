//! Rules of the plan's own structure: published section numerals, stable task codes,
//! timelines and the kinds of key target.

use std::fmt;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanRuleError {
    #[error("section numeral {0:?} is not a Roman numeral from I to XX")]
    SectionNumeral(String),
    #[error(
        "task number {0:?} is neither a number (\"3\") nor a parenthesised Roman numeral (\"(ii)\")"
    )]
    TaskNumber(String),
    #[error("unknown target key {0:?}")]
    TargetKey(String),
    #[error("unknown target kind {0:?} (expected \"count\" or \"completion\")")]
    TargetKind(String),
}

const ROMAN: [&str; 20] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV",
    "XVI", "XVII", "XVIII", "XIX", "XX",
];

/// A section numeral exactly as published. The plan skips VI, so the numeral is an
/// identity, never a position: positions are counted separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionNumeral(String);

impl SectionNumeral {
    pub fn parse(numeral: &str) -> Result<Self, PlanRuleError> {
        if ROMAN.contains(&numeral) {
            Ok(Self(numeral.to_owned()))
        } else {
            Err(PlanRuleError::SectionNumeral(numeral.to_owned()))
        }
    }

    /// The numeral's arithmetic value (VII = 7), used only for ordering checks.
    pub fn value(&self) -> usize {
        ROMAN.iter().position(|r| *r == self.0).map_or(0, |i| i + 1)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SectionNumeral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The stable code of a top-level task: `"II.3"` for task 3 of section II.
pub fn task_code(section: &SectionNumeral, number: &str) -> Result<String, PlanRuleError> {
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(PlanRuleError::TaskNumber(number.to_owned()));
    }
    Ok(format!("{section}.{number}"))
}

/// The stable code of a sub-task: `"II.3.iv"` for item "(iv)" under II.3.
pub fn child_task_code(parent_code: &str, number: &str) -> Result<String, PlanRuleError> {
    let inner = number
        .strip_prefix('(')
        .and_then(|n| n.strip_suffix(')'))
        .filter(|n| !n.is_empty() && n.chars().all(|c| matches!(c, 'i' | 'v' | 'x')))
        .ok_or_else(|| PlanRuleError::TaskNumber(number.to_owned()))?;
    Ok(format!("{parent_code}.{inner}"))
}

/// A task's timeline in structured form, next to the published text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Repeats every year ("Hàng năm", "Thường xuyên hàng năm").
    pub recurring: bool,
    pub start_year: Option<i32>,
    pub end_year: Option<i32>,
}

/// Reads the published timeline cell. Unrecognised wording yields `None`, so the
/// published text is still served but nothing is invented.
pub fn parse_timeline(text: &str) -> Option<Timeline> {
    let lowered = text.trim().to_lowercase();
    if lowered.contains("hàng năm") {
        return Some(Timeline {
            recurring: true,
            start_year: None,
            end_year: None,
        });
    }
    let years: Vec<i32> = lowered
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| part.len() == 4)
        .filter_map(|part| part.parse().ok())
        .collect();
    match years.as_slice() {
        [year] => Some(Timeline {
            recurring: false,
            start_year: Some(*year),
            end_year: Some(*year),
        }),
        [start, end] if start <= end => Some(Timeline {
            recurring: false,
            start_year: Some(*start),
            end_year: Some(*end),
        }),
        _ => None,
    }
}

/// The five key targets of section I.2 of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKey {
    /// At least 15 S&T tasks carrying out the Provincial Party Committee's resolutions.
    StTasks,
    /// At least 20 S&T application models transferred.
    ApplicationModels,
    /// At least 20 innovative startups supported.
    Startups,
    /// Industrial property of at least one key farm product registered abroad.
    IpAbroad,
    /// Technology level of enterprises in the key industries assessed.
    TechnologyAssessment,
}

impl TargetKey {
    pub const ALL: [TargetKey; 5] = [
        TargetKey::StTasks,
        TargetKey::ApplicationModels,
        TargetKey::Startups,
        TargetKey::IpAbroad,
        TargetKey::TechnologyAssessment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKey::StTasks => "ST_TASKS",
            TargetKey::ApplicationModels => "APPLICATION_MODELS",
            TargetKey::Startups => "STARTUPS",
            TargetKey::IpAbroad => "IP_ABROAD",
            TargetKey::TechnologyAssessment => "TECHNOLOGY_ASSESSMENT",
        }
    }

    pub fn parse(key: &str) -> Result<Self, PlanRuleError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == key)
            .ok_or_else(|| PlanRuleError::TargetKey(key.to_owned()))
    }
}

/// Whether a target counts something or is met by completing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Count,
    Completion,
}

impl TargetKind {
    pub const ALL: [TargetKind; 2] = [TargetKind::Count, TargetKind::Completion];

    /// The name clients see (`COUNT`).
    pub fn api_name(self) -> &'static str {
        match self {
            TargetKind::Count => "COUNT",
            TargetKind::Completion => "COMPLETION",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Count => "count",
            TargetKind::Completion => "completion",
        }
    }

    pub fn parse(kind: &str) -> Result<Self, PlanRuleError> {
        match kind {
            "count" => Ok(TargetKind::Count),
            "completion" => Ok(TargetKind::Completion),
            other => Err(PlanRuleError::TargetKind(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_numerals_are_kept_as_published() {
        let vii = SectionNumeral::parse("VII").unwrap();
        assert_eq!(vii.as_str(), "VII");
        assert_eq!(vii.value(), 7);
        assert!(SectionNumeral::parse("7").is_err());
        assert!(SectionNumeral::parse("vii").is_err());
    }

    #[test]
    fn task_codes_join_section_numeral_and_number() {
        let ii = SectionNumeral::parse("II").unwrap();
        assert_eq!(task_code(&ii, "3").unwrap(), "II.3");
        assert!(task_code(&ii, "").is_err());
        assert!(task_code(&ii, "3a").is_err());
    }

    #[test]
    fn child_task_codes_use_the_bare_roman_item() {
        assert_eq!(child_task_code("II.3", "(iv)").unwrap(), "II.3.iv");
        assert!(child_task_code("II.3", "iv").is_err());
        assert!(child_task_code("II.3", "(a)").is_err());
    }

    #[test]
    fn recurring_timelines_are_recognised() {
        let expected = Timeline {
            recurring: true,
            start_year: None,
            end_year: None,
        };
        assert_eq!(
            parse_timeline("Thường xuyên hàng năm"),
            Some(expected.clone())
        );
        assert_eq!(parse_timeline("Hàng năm"), Some(expected));
    }

    #[test]
    fn year_ranges_are_recognised() {
        assert_eq!(
            parse_timeline("2022 - 2023"),
            Some(Timeline {
                recurring: false,
                start_year: Some(2022),
                end_year: Some(2023)
            })
        );
        assert_eq!(parse_timeline("2024").map(|t| t.end_year), Some(Some(2024)));
    }

    #[test]
    fn unknown_or_reversed_timelines_are_not_invented() {
        assert_eq!(parse_timeline("Theo tiến độ"), None);
        assert_eq!(parse_timeline("2023 - 2022"), None);
    }

    #[test]
    fn target_keys_round_trip() {
        for key in TargetKey::ALL {
            assert_eq!(TargetKey::parse(key.as_str()).unwrap(), key);
        }
        assert!(TargetKey::parse("st_tasks").is_err());
    }
}
