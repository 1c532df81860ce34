//! What a write carries once its input is checked: a kind's content, the organisation
//! it names and, for startups, support events. Plain Rust: the GraphQL layer and the
//! connectors build the same drafts from their inputs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::validate::{Checker, MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use crate::domain::values::BigInt;

/// Free text fields share these limits.
pub const NAME: usize = MAX_NAME_CHARS;
pub const TEXT: usize = MAX_TEXT_CHARS;
pub const CODE: usize = MAX_CODE_CHARS;

/// A checked input: the record's content (provenance and derived columns are the write
/// engine's), the organisation it names, and the support events that replace (or, from
/// a connector, join) the old ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft<C> {
    pub content: C,
    pub organisation: Option<OrganisationDraft>,
    pub support_events: Option<Vec<SupportEventDraft>>,
}

impl<C> Draft<C> {
    pub fn new(content: C) -> Self {
        Self {
            content,
            organisation: None,
            support_events: None,
        }
    }
}

/// An organisation named by an input (producer, host, enterprise).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationInput {
    pub name: String,
    pub tax_code: Option<String>,
    pub kind: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
}

/// An organisation to find by tax code, else by name, else to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationDraft {
    pub name: String,
    pub tax_code: Option<String>,
    pub kind: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
}

impl OrganisationInput {
    pub fn to_draft(&self, check: &mut Checker) -> OrganisationDraft {
        OrganisationDraft {
            name: check.text("name", &self.name, NAME),
            tax_code: check.opt_tax_code("taxCode", self.tax_code.as_deref()),
            kind: check.opt_text("kind", self.kind.as_deref(), CODE),
            district: check.opt_text("district", self.district.as_deref(), NAME),
            commune: check.opt_text("commune", self.commune.as_deref(), NAME),
        }
    }
}

/// Checks a nested organisation under `field`.
pub fn organisation(
    check: &mut Checker,
    field: &str,
    input: Option<&OrganisationInput>,
) -> Option<OrganisationDraft> {
    let input = input?;
    let mut nested = check.nested(field);
    let draft = input.to_draft(&mut nested);
    check.absorb(nested);
    Some(draft)
}

/// Support a startup received, as an input gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportEventInput {
    pub year: i32,
    pub kind: String,
    pub amount_vnd: Option<BigInt>,
    /// The supporting agency's code.
    pub agency: Option<String>,
    pub note: Option<String>,
}

/// A startup support event, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportEventDraft {
    pub year: i32,
    pub kind: String,
    pub amount_vnd: Option<i64>,
    pub agency_id: Option<i32>,
    pub note: Option<String>,
}

/// What inputs refer to by code or id, resolved once per request or run.
#[derive(Debug, Clone, Default)]
pub struct Refs {
    /// Agency ids by code (`so-khcn`).
    pub agencies: HashMap<String, i32>,
    /// The agency of the caller, for inputs that may leave their agency out.
    pub caller_agency: Option<i32>,
}

impl Refs {
    /// An agency by its code.
    pub fn agency(&self, check: &mut Checker, field: &str, code: Option<&str>) -> Option<i32> {
        let code = code.map(str::trim).filter(|c| !c.is_empty())?;
        match self.agencies.get(code) {
            Some(id) => Some(*id),
            None => {
                check.fail(field, format!("no agency has the code {code:?}"));
                None
            }
        }
    }

    /// The id of a record of `kind` (`"IpRight:3"` or `"3"`).
    pub fn record(
        &self,
        check: &mut Checker,
        field: &str,
        id: Option<&str>,
        kind: RecordKind,
    ) -> Option<i32> {
        let id = id?;
        match RecordRef::id_of(id, kind) {
            Ok(id) => Some(id),
            Err(_) => {
                check.fail(
                    field,
                    format!("{id:?} is not an id of a {}", kind.type_name()),
                );
                None
            }
        }
    }
}
