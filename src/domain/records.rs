//! The kinds of linked record and the closed vocabularies their fields use.

use std::fmt;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown {what} {value:?}; expected one of: {expected}")]
pub struct UnknownTerm {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

/// Declares a closed vocabulary: an enum with its stored (and API) spelling.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Result<Self, UnknownTerm> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(text.trim()))
                    .ok_or_else(|| UnknownTerm {
                        what: $what,
                        value: text.to_owned(),
                        expected: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// The kinds of record the hub links to plan tasks.
    RecordKind, "record kind" {
        IpRight => "IP_RIGHT",
        OcopProduct => "OCOP_PRODUCT",
        Startup => "STARTUP",
        TraceabilityEntry => "TRACEABILITY_ENTRY",
        ScienceTask => "SCIENCE_TASK",
        ApplicationModel => "APPLICATION_MODEL",
        TechnologyAssessment => "TECHNOLOGY_ASSESSMENT",
        AnnualReport => "ANNUAL_REPORT",
    }
}

impl RecordKind {
    /// The GraphQL type name, also the prefix of a record's global id.
    pub fn type_name(self) -> &'static str {
        match self {
            RecordKind::IpRight => "IpRight",
            RecordKind::OcopProduct => "OcopProduct",
            RecordKind::Startup => "Startup",
            RecordKind::TraceabilityEntry => "TraceabilityEntry",
            RecordKind::ScienceTask => "ScienceTask",
            RecordKind::ApplicationModel => "ApplicationModel",
            RecordKind::TechnologyAssessment => "TechnologyAssessment",
            RecordKind::AnnualReport => "AnnualReport",
        }
    }

    /// The table that holds records of this kind.
    pub fn table(self) -> &'static str {
        match self {
            RecordKind::IpRight => "ip_rights",
            RecordKind::OcopProduct => "ocop_products",
            RecordKind::Startup => "startups",
            RecordKind::TraceabilityEntry => "traceability_entries",
            RecordKind::ScienceTask => "science_tasks",
            RecordKind::ApplicationModel => "application_models",
            RecordKind::TechnologyAssessment => "technology_assessments",
            RecordKind::AnnualReport => "annual_reports",
        }
    }

    /// The column naming the agency that owns records of this kind (managing or
    /// reporting agency), if the kind has one.
    pub fn owner_column(self) -> Option<&'static str> {
        match self {
            RecordKind::IpRight => Some("managing_agency_id"),
            RecordKind::AnnualReport => Some("agency_id"),
            _ => None,
        }
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.type_name() == name)
    }
}

/// A record's global id: `"OcopProduct:42"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordRef {
    pub kind: RecordKind,
    pub id: i32,
}

impl RecordRef {
    pub fn parse(global_id: &str) -> Option<Self> {
        let (type_name, id) = global_id.trim().split_once(':')?;
        Some(Self {
            kind: RecordKind::from_type_name(type_name)?,
            id: id.parse().ok().filter(|id| *id > 0)?,
        })
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.type_name(), self.id)
    }
}

vocabulary! {
    /// Kinds of industrial property right.
    IpRightKind, "IP right kind" {
        GeographicalIndication => "GEOGRAPHICAL_INDICATION",
        CertificationMark => "CERTIFICATION_MARK",
        CollectiveMark => "COLLECTIVE_MARK",
        Trademark => "TRADEMARK",
    }
}

vocabulary! {
    /// Where an IP right stands.
    IpRightStatus, "IP right status" {
        Filed => "FILED",
        Registered => "REGISTERED",
        Refused => "REFUSED",
        Expired => "EXPIRED",
    }
}

vocabulary! {
    /// Level of an S&T task (cấp quốc gia, cấp tỉnh, cấp cơ sở).
    ScienceTaskLevel, "S&T task level" {
        National => "NATIONAL",
        Provincial => "PROVINCIAL",
        Grassroots => "GRASSROOTS",
    }
}

vocabulary! {
    /// Where an S&T task stands (phê duyệt, đang thực hiện, nghiệm thu).
    ScienceTaskStatus, "S&T task status" {
        Approved => "APPROVED",
        InProgress => "IN_PROGRESS",
        Accepted => "ACCEPTED",
        Cancelled => "CANCELLED",
    }
}

/// A GS1 CBV value (business step, disposition) as its bare word: `shipping` for
/// `urn:epcglobal:cbv:bizstep:shipping` and `https://ref.gs1.org/cbv/BizStep-shipping`
/// alike.
pub fn cbv_word(value: &str) -> String {
    let value = value.trim();
    let tail = if let Some(rest) = value.strip_prefix("urn:epcglobal:cbv:") {
        rest.split_once(':').map_or(rest, |(_, word)| word)
    } else if let Some(rest) = value.strip_prefix("https://ref.gs1.org/cbv/") {
        rest.split_once('-').map_or(rest, |(_, word)| word)
    } else {
        value
    };
    tail.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_and_name_the_alternatives() {
        assert_eq!(
            RecordKind::parse("ocop_product"),
            Ok(RecordKind::OcopProduct)
        );
        let error = IpRightStatus::parse("LOST").unwrap_err();
        assert!(error.to_string().contains("FILED, REGISTERED"), "{error}");
    }

    #[test]
    fn cbv_values_become_bare_words() {
        assert_eq!(cbv_word("urn:epcglobal:cbv:bizstep:shipping"), "shipping");
        assert_eq!(
            cbv_word("https://ref.gs1.org/cbv/Disp-in_transit"),
            "in_transit"
        );
        assert_eq!(cbv_word("receiving"), "receiving");
    }

    #[test]
    fn global_ids_carry_their_kind() {
        let reference = RecordRef::parse("OcopProduct:42").unwrap();
        assert_eq!(reference.kind, RecordKind::OcopProduct);
        assert_eq!(reference.to_string(), "OcopProduct:42");
        assert_eq!(RecordRef::parse("Nope:1"), None);
        assert_eq!(RecordRef::parse("OcopProduct:-1"), None);
        assert_eq!(RecordRef::parse("OcopProduct"), None);
    }
}
