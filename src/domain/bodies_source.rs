//! The bodies the plan's reporting rule applies to (`seed/reporting-bodies.toml`): kind,
//! the days each existed, its successor and a source for every fact.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Deserialize;

use super::places::DISTRICTS;
use super::plan_source::{PlanSourceError, optional_toml_date};
use super::reporting::BodyKind;

pub const REPORTING_BODIES: &str = include_str!("../../seed/reporting-bodies.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodiesSource {
    pub sources: Vec<CitationSource>,
    pub bodies: Vec<BodySource>,
}

/// A public document facts are taken from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitationSource {
    pub code: String,
    pub citation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodySource {
    pub code: String,
    /// Only for bodies the plan does not already define.
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub kind: BodyKind,
    /// For a district committee: the district it governed.
    pub district: Option<String>,
    #[serde(default, deserialize_with = "optional_toml_date")]
    pub from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "optional_toml_date")]
    pub until: Option<NaiveDate>,
    pub successor: Option<String>,
    pub facts: Vec<FactSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactSource {
    pub fact: String,
    pub source: String,
}

impl BodiesSource {
    pub fn bundled() -> Result<Self, PlanSourceError> {
        Self::parse(REPORTING_BODIES)
    }

    /// Reads and checks a file: codes unique, every fact sourced, successors and sources
    /// known, dates in order, district committees naming a district.
    pub fn parse(text: &str) -> Result<Self, PlanSourceError> {
        let source: BodiesSource = toml::from_str(text)?;
        let citations: HashSet<&str> = source.sources.iter().map(|s| s.code.as_str()).collect();
        let mut codes: HashSet<&str> = HashSet::new();
        for body in &source.bodies {
            if !codes.insert(&body.code) {
                return Err(PlanSourceError::Duplicate {
                    at: "reporting bodies".to_owned(),
                    what: "body",
                    code: body.code.clone(),
                });
            }
        }
        for body in &source.bodies {
            body.check(&codes, &citations)?;
        }
        Ok(source)
    }

    pub fn citation(&self, code: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.citation.as_str())
    }

    /// District code → the code of its committee.
    pub fn district_committees(&self) -> HashMap<&str, &str> {
        self.bodies
            .iter()
            .filter_map(|b| b.district.as_deref().map(|d| (d, b.code.as_str())))
            .collect()
    }
}

impl BodySource {
    fn check(
        &self,
        codes: &HashSet<&str>,
        citations: &HashSet<&str>,
    ) -> Result<(), PlanSourceError> {
        let at = format!("reporting body {}", self.code);
        let invalid = |message: String| PlanSourceError::Invalid {
            at: at.clone(),
            message,
        };
        if self.facts.is_empty() {
            return Err(invalid("no fact with a source".to_owned()));
        }
        for fact in &self.facts {
            if !citations.contains(fact.source.as_str()) {
                return Err(PlanSourceError::UnknownReference {
                    at: at.clone(),
                    what: "source",
                    code: fact.source.clone(),
                });
            }
        }
        if let Some(successor) = &self.successor {
            if !codes.contains(successor.as_str()) || successor == &self.code {
                return Err(PlanSourceError::UnknownReference {
                    at: at.clone(),
                    what: "successor",
                    code: successor.clone(),
                });
            }
            if self.until.is_none() {
                return Err(invalid(
                    "a successor without the day the body ceased".to_owned(),
                ));
            }
        }
        if let (Some(from), Some(until)) = (self.from, self.until)
            && from > until
        {
            return Err(invalid(format!("exists from {from} until {until}")));
        }
        let is_committee = self.kind == BodyKind::DistrictCommittee;
        match &self.district {
            Some(district) if !DISTRICTS.iter().any(|d| d.code == district) => {
                Err(PlanSourceError::UnknownReference {
                    at,
                    what: "district",
                    code: district.clone(),
                })
            }
            Some(_) if !is_committee => Err(invalid(
                "only a district committee has a district".to_owned(),
            )),
            None if is_committee => Err(invalid(
                "a district committee names its district".to_owned(),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan_source::PlanSource;

    #[test]
    fn every_district_has_one_committee_that_ended_with_the_district_level() {
        let source = BodiesSource::bundled().unwrap();
        let committees = source.district_committees();
        assert_eq!(committees.len(), DISTRICTS.len());
        for district in DISTRICTS {
            let code = committees[district.code];
            let body = source.bodies.iter().find(|b| b.code == code).unwrap();
            assert_eq!(body.until, NaiveDate::from_ymd_opt(2025, 6, 30), "{code}");
        }
    }

    #[test]
    fn every_body_is_named_here_or_in_the_plan_and_every_plan_agency_has_a_kind() {
        let source = BodiesSource::bundled().unwrap();
        let plan = PlanSource::plan_136().unwrap();
        for body in &source.bodies {
            let in_plan = plan.agencies.iter().any(|a| a.code == body.code);
            assert_eq!(body.name.is_none(), in_plan, "{}: name it once", body.code);
        }
        for agency in &plan.agencies {
            assert!(
                source.bodies.iter().any(|b| b.code == agency.code),
                "{} has no kind",
                agency.code
            );
        }
    }

    #[test]
    fn the_bodies_the_plan_only_asks_to_coordinate_owe_nothing() {
        let source = BodiesSource::bundled().unwrap();
        for code in [
            "mttq",
            "hoi-nong-dan",
            "hoi-lhpn",
            "hoi-ccb",
            "doan-thanh-nien",
            "lhh-khkt",
        ] {
            let body = source.bodies.iter().find(|b| b.code == code).unwrap();
            assert!(!body.kind.owes_yearly_report(), "{code}");
        }
    }

    #[test]
    fn broken_files_are_refused_with_where() {
        let base = r#"
            [[sources]]
            code = "s"
            citation = "c"
        "#;
        let cases = [
            (
                "kind = \"department\"\nsuccessor = \"nobody\"\nuntil = 2025-02-28",
                "successor",
            ),
            ("kind = \"department\"\nfacts = []", "no fact"),
            ("kind = \"district_committee\"", "names its district"),
            (
                "kind = \"department\"\nfrom = 2025-03-01\nuntil = 2025-02-28",
                "exists from",
            ),
            ("kind = \"deity\"", "deity"),
        ];
        for (body, expected) in cases {
            let facts = if body.contains("facts") {
                ""
            } else {
                "\nfacts = [{ fact = \"f\", source = \"s\" }]"
            };
            let text = format!("{base}\n[[bodies]]\ncode = \"x\"\n{body}{facts}\n");
            let message = match BodiesSource::parse(&text) {
                Err(e) => format!("{e} {e:?}"),
                Ok(_) => panic!("accepted: {body}"),
            };
            assert!(message.contains(expected), "{message}");
        }
    }
}
