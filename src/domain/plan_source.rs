//! The reviewed transcription of a plan (`seed/*.toml`), as read from disk.
//!
//! Absent keys are unknown cells: they stay `None` all the way to the API. Reading checks
//! every rule a transcription can break before anything touches the database.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Deserialize;
use thiserror::Error;
use unicode_normalization::is_nfc;

use super::plan::{PlanRuleError, SectionNumeral, TargetKey, TargetKind};

/// The transcription of plan 136/KH-UBND that ships with the hub.
pub const PLAN_136: &str = include_str!("../../seed/plan-136-kh-ubnd.toml");

#[derive(Debug, Error)]
pub enum PlanSourceError {
    #[error("the plan file is not valid TOML")]
    Toml(#[from] toml::de::Error),
    #[error("{at}")]
    Rule {
        at: String,
        #[source]
        source: PlanRuleError,
    },
    #[error("{at}: text is empty; leave the key out when the published cell is empty")]
    EmptyText { at: String },
    #[error("{at}: text is not in Unicode NFC form")]
    NotNfc { at: String },
    #[error("{at}: unknown {what} {code:?}")]
    UnknownReference {
        at: String,
        what: &'static str,
        code: String,
    },
    #[error("{at}: {what} {code:?} is defined twice")]
    Duplicate {
        at: String,
        what: &'static str,
        code: String,
    },
    #[error("{at}: a coordinator names exactly one agency or one group")]
    CoordinatorParty { at: String },
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSource {
    pub plan: PlanHeader,
    pub targets: Vec<TargetSource>,
    pub agencies: Vec<AgencySource>,
    pub groups: Vec<GroupSource>,
    pub documents: Vec<DocumentSource>,
    pub sections: Vec<SectionSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanHeader {
    pub code: String,
    pub kind: String,
    #[serde(deserialize_with = "toml_date")]
    pub issued_on: NaiveDate,
    pub issuer: String,
    pub issuer_agency: Option<String>,
    pub signer: Option<String>,
    pub signer_title: Option<String>,
    pub signature_block: Option<String>,
    pub heading: Option<String>,
    pub title: String,
    pub basis: Option<String>,
    pub preamble: Option<String>,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub funding_sources: Vec<String>,
    #[serde(default)]
    pub implementation: Vec<String>,
    #[serde(default)]
    pub recipients: Vec<String>,
    pub reporting: Option<ReportingSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingSource {
    pub month: u32,
    pub day: u32,
    pub text: String,
    pub via_agency: Option<String>,
    pub to_agency: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSource {
    pub position: i32,
    pub key: String,
    pub kind: String,
    pub value: Option<i32>,
    pub unit: Option<String>,
    pub unit_en: Option<String>,
    pub due_year: i32,
    pub text: String,
    pub description_en: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencySource {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSource {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSource {
    pub number: String,
    pub kind: String,
    #[serde(default, deserialize_with = "optional_toml_date")]
    pub issued_on: Option<NaiveDate>,
    pub issuer: Option<String>,
    pub issuer_agency: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionSource {
    pub numeral: String,
    pub title: String,
    #[serde(default)]
    pub tasks: Vec<TaskSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSource {
    pub number: String,
    pub text: String,
    pub lead: Option<String>,
    pub lead_text: Option<String>,
    pub coordinators_text: Option<String>,
    #[serde(default)]
    pub coordinators: Vec<CoordinatorSource>,
    pub deliverable: Option<String>,
    pub timeline: Option<String>,
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default)]
    pub children: Vec<TaskSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorSource {
    pub text: String,
    pub note: Option<String>,
    pub agency: Option<String>,
    pub group: Option<String>,
}

impl PlanSource {
    /// Reads and checks a transcription.
    pub fn parse(toml_text: &str) -> Result<Self, PlanSourceError> {
        let source: PlanSource = toml::from_str(toml_text)?;
        source.check()?;
        Ok(source)
    }

    /// The transcription of plan 136/KH-UBND that ships with the hub.
    pub fn plan_136() -> Result<Self, PlanSourceError> {
        Self::parse(PLAN_136)
    }

    fn check(&self) -> Result<(), PlanSourceError> {
        let known = KnownCodes {
            agencies: unique_codes("agency", self.agencies.iter().map(|a| a.code.as_str()))?,
            groups: unique_codes("group", self.groups.iter().map(|g| g.code.as_str()))?,
            documents: unique_codes("document", self.documents.iter().map(|d| d.number.as_str()))?,
        };
        check_header(&self.plan, &known)?;
        self.check_listings(&known)?;
        let mut numerals = HashSet::new();
        for section in &self.sections {
            let numeral = SectionNumeral::parse(&section.numeral)
                .map_err(|source| rule("sections", source))?;
            if !numerals.insert(section.numeral.as_str()) {
                return Err(PlanSourceError::Duplicate {
                    at: "sections".into(),
                    what: "section",
                    code: section.numeral.clone(),
                });
            }
            text_ok(&format!("section {numeral}"), &section.title)?;
            for task in &section.tasks {
                let at = format!("task {numeral}.{}", task.number);
                check_task(&at, task, &known)?;
                for child in &task.children {
                    check_task(&format!("{at} {}", child.number), child, &known)?;
                }
            }
        }
        Ok(())
    }

    /// The targets, agencies, groups and documents the plan lists.
    fn check_listings(&self, known: &KnownCodes) -> Result<(), PlanSourceError> {
        for (i, target) in self.targets.iter().enumerate() {
            let at = format!("targets[{i}]");
            TargetKey::parse(&target.key).map_err(|source| rule(&at, source))?;
            TargetKind::parse(&target.kind).map_err(|source| rule(&at, source))?;
            text_ok(&at, &target.text)?;
        }
        for agency in &self.agencies {
            let at = format!("agency {}", agency.code);
            text_ok(&at, &agency.name)?;
            for alias in &agency.aliases {
                text_ok(&at, alias)?;
            }
        }
        for group in &self.groups {
            let at = format!("group {}", group.code);
            text_ok(&at, &group.name)?;
            for alias in &group.aliases {
                text_ok(&at, alias)?;
            }
        }
        for document in &self.documents {
            let at = format!("document {}", document.number);
            optional_text_ok(&at, &document.title)?;
            optional_text_ok(&at, &document.issuer)?;
            known.agency(&at, &document.issuer_agency)?;
        }
        Ok(())
    }
}

/// The codes of the agencies, groups and documents a transcription defines, which
/// everything else may refer to.
struct KnownCodes<'a> {
    agencies: HashSet<&'a str>,
    groups: HashSet<&'a str>,
    documents: HashSet<&'a str>,
}

impl KnownCodes<'_> {
    fn agency(&self, at: &str, code: &Option<String>) -> Result<(), PlanSourceError> {
        match code {
            Some(code) => known(at, "agency", &self.agencies, code),
            None => Ok(()),
        }
    }

    fn group(&self, at: &str, code: &str) -> Result<(), PlanSourceError> {
        known(at, "group", &self.groups, code)
    }

    fn document(&self, at: &str, number: &str) -> Result<(), PlanSourceError> {
        known(at, "document", &self.documents, number)
    }
}

fn known(
    at: &str,
    what: &'static str,
    codes: &HashSet<&str>,
    code: &str,
) -> Result<(), PlanSourceError> {
    if codes.contains(code) {
        Ok(())
    } else {
        Err(PlanSourceError::UnknownReference {
            at: at.to_owned(),
            what,
            code: code.to_owned(),
        })
    }
}

/// The plan's own texts and what they refer to.
fn check_header(plan: &PlanHeader, known: &KnownCodes) -> Result<(), PlanSourceError> {
    text_ok("plan.code", &plan.code)?;
    text_ok("plan.title", &plan.title)?;
    text_ok("plan.issuer", &plan.issuer)?;
    for (at, value) in [
        ("plan.heading", &plan.heading),
        ("plan.signer", &plan.signer),
        ("plan.signer_title", &plan.signer_title),
        ("plan.preamble", &plan.preamble),
    ] {
        optional_text_ok(at, value)?;
    }
    for (kind, list) in [
        ("purposes", &plan.purposes),
        ("funding_sources", &plan.funding_sources),
        ("implementation", &plan.implementation),
        ("recipients", &plan.recipients),
    ] {
        for (i, text) in list.iter().enumerate() {
            text_ok(&format!("plan.{kind}[{i}]"), text)?;
        }
    }
    known.agency("plan.issuer_agency", &plan.issuer_agency)?;
    if let Some(basis) = &plan.basis {
        known.document("plan.basis", basis)?;
    }
    if let Some(reporting) = &plan.reporting {
        text_ok("plan.reporting.text", &reporting.text)?;
        known.agency("plan.reporting.via_agency", &reporting.via_agency)?;
        known.agency("plan.reporting.to_agency", &reporting.to_agency)?;
    }
    Ok(())
}

/// One task's texts, lead, coordinators (each exactly one agency or one group) and
/// documents.
fn check_task(at: &str, task: &TaskSource, known: &KnownCodes) -> Result<(), PlanSourceError> {
    text_ok(at, &task.text)?;
    for value in [
        &task.lead_text,
        &task.coordinators_text,
        &task.deliverable,
        &task.timeline,
    ] {
        optional_text_ok(at, value)?;
    }
    known.agency(at, &task.lead)?;
    for coordinator in &task.coordinators {
        text_ok(at, &coordinator.text)?;
        match (&coordinator.agency, &coordinator.group) {
            (Some(_), None) => known.agency(at, &coordinator.agency)?,
            (None, Some(group)) => known.group(at, group)?,
            _ => return Err(PlanSourceError::CoordinatorParty { at: at.to_owned() }),
        }
    }
    for number in &task.documents {
        known.document(at, number)?;
    }
    Ok(())
}

/// A TOML local date (`2022-04-21`) as a calendar date.
fn toml_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let value = toml::value::Datetime::deserialize(deserializer)?;
    match (value.date, value.time, value.offset) {
        (Some(date), None, None) => NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        )
        .ok_or_else(|| serde::de::Error::custom(format!("{value} is not a calendar date"))),
        _ => Err(serde::de::Error::custom(format!(
            "{value} must be a plain date such as 2022-04-21"
        ))),
    }
}

pub(crate) fn optional_toml_date<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    toml_date(deserializer).map(Some)
}

fn rule(at: &str, source: PlanRuleError) -> PlanSourceError {
    PlanSourceError::Rule {
        at: at.to_owned(),
        source,
    }
}

fn unique_codes<'a>(
    what: &'static str,
    codes: impl Iterator<Item = &'a str>,
) -> Result<HashSet<&'a str>, PlanSourceError> {
    let mut seen = HashSet::new();
    for code in codes {
        text_ok(what, code)?;
        if !seen.insert(code) {
            return Err(PlanSourceError::Duplicate {
                at: "plan file".into(),
                what,
                code: code.to_owned(),
            });
        }
    }
    Ok(seen)
}

fn text_ok(at: &str, text: &str) -> Result<(), PlanSourceError> {
    if text.trim().is_empty() {
        return Err(PlanSourceError::EmptyText { at: at.to_owned() });
    }
    if !is_nfc(text) {
        return Err(PlanSourceError::NotNfc { at: at.to_owned() });
    }
    Ok(())
}

fn optional_text_ok(at: &str, text: &Option<String>) -> Result<(), PlanSourceError> {
    text.as_deref().map_or(Ok(()), |t| text_ok(at, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [plan]
        code = "1/KH-UBND"
        kind = "Kế hoạch"
        issued_on = 2022-04-21
        issuer = "Ủy ban nhân dân Tỉnh"
        title = "Thử"

        [[targets]]
        position = 1
        key = "ST_TASKS"
        kind = "count"
        value = 15
        due_year = 2025
        text = "ít nhất 15"

        [[agencies]]
        code = "so-khcn"
        name = "Sở Khoa học và Công nghệ"
        aliases = ["Sở KHCN"]

        [[groups]]
        code = "cac-so"
        name = "Các Sở, ngành Tỉnh"
        kind = "agencies"

        [[documents]]
        number = "9/KH"
        kind = "Kế hoạch"

        [[sections]]
        numeral = "I"
        title = "Một"

        [[sections.tasks]]
        number = "1"
        text = "Việc"
        lead = "so-khcn"
        coordinators = [{ text = "Các Sở, ngành Tỉnh", group = "cac-so" }]
        documents = ["9/KH"]
    "#;

    #[test]
    fn a_minimal_plan_file_is_read() {
        let source = PlanSource::parse(MINIMAL).unwrap();
        assert_eq!(source.sections[0].tasks[0].lead.as_deref(), Some("so-khcn"));
        assert_eq!(source.sections[0].tasks[0].deliverable, None);
    }

    #[test]
    fn an_unknown_lead_agency_is_refused_with_its_task() {
        let text = MINIMAL.replace("lead = \"so-khcn\"", "lead = \"so-xyz\"");
        let error = PlanSource::parse(&text).unwrap_err().to_string();
        assert!(error.contains("task I.1"), "{error}");
        assert!(error.contains("so-xyz"), "{error}");
    }

    #[test]
    fn an_empty_cell_must_be_left_out_not_written_as_empty() {
        let text = MINIMAL.replace("text = \"Việc\"", "text = \"Việc\"\ndeliverable = \"\"");
        let error = PlanSource::parse(&text).unwrap_err();
        assert!(
            matches!(error, PlanSourceError::EmptyText { .. }),
            "{error}"
        );
    }

    #[test]
    fn decomposed_text_is_refused() {
        let text = MINIMAL.replace("Việc", "Vie\u{0323}\u{0302}c");
        let error = PlanSource::parse(&text).unwrap_err();
        assert!(matches!(error, PlanSourceError::NotNfc { .. }), "{error}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = MINIMAL.replace("title = \"Thử\"", "title = \"Thử\"\ntitel = \"x\"");
        assert!(matches!(
            PlanSource::parse(&text),
            Err(PlanSourceError::Toml(_))
        ));
    }

    #[test]
    fn a_coordinator_without_a_party_is_refused() {
        let text = MINIMAL.replace(", group = \"cac-so\"", "");
        assert!(matches!(
            PlanSource::parse(&text),
            Err(PlanSourceError::CoordinatorParty { .. })
        ));
    }
}
