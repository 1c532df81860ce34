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

/// Declares `RecordKind` from the registry of kinds (`domain::registry`).
macro_rules! declare_record_kinds {
    ($($variant:ident $module:ident $name:literal),* $(,)?) => {
        vocabulary! {
            /// The kinds of record the hub links to plan tasks.
            RecordKind, "record kind" { $($variant => $name),* }
        }

        impl RecordKind {
            /// The GraphQL type name, also the prefix of a record's global id.
            pub fn type_name(self) -> &'static str {
                match self { $(RecordKind::$variant => stringify!($variant)),* }
            }
        }
    };
}

crate::domain::registry::registry!(declare_record_kinds!());

impl RecordKind {
    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.type_name() == name)
    }

    /// The kind's position in `ALL`, for bit sets of kinds.
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// A record's global id: `"<Type>:<n>"`.
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

/// Why a text is not a record id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadRecordId {
    #[error("id {text:?} is a {found}, not a {expected}")]
    OtherKind {
        text: String,
        found: &'static str,
        expected: &'static str,
    },
    #[error("id {text:?} is not a record id (e.g. \"{example}:1\")")]
    Malformed { text: String, example: &'static str },
}

impl RecordRef {
    /// The id of a record of `kind`: the global `"<Type>:42"`, or `"42"`.
    pub fn id_of(text: &str, kind: RecordKind) -> Result<i32, BadRecordId> {
        if let Some(reference) = RecordRef::parse(text) {
            if reference.kind == kind {
                return Ok(reference.id);
            }
            return Err(BadRecordId::OtherKind {
                text: text.to_owned(),
                found: reference.kind.type_name(),
                expected: kind.type_name(),
            });
        }
        text.parse::<i32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| BadRecordId::Malformed {
                text: text.to_owned(),
                example: kind.type_name(),
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
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::parse(&kind.as_str().to_lowercase()), Ok(*kind));
        }
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
        for kind in RecordKind::ALL {
            let name = kind.type_name();
            let reference = RecordRef::parse(&format!("{name}:42")).unwrap();
            assert_eq!(reference.kind, *kind);
            assert_eq!(reference.to_string(), format!("{name}:42"));
            assert_eq!(RecordRef::parse(&format!("{name}:-1")), None);
            assert_eq!(RecordRef::parse(name), None);
            assert_eq!(RecordRef::id_of("7", *kind), Ok(7));
            assert_eq!(RecordRef::id_of(&format!("{name}:7"), *kind), Ok(7));
            assert!(RecordRef::id_of("x", *kind).is_err());
        }
        assert_eq!(RecordRef::parse("Nope:1"), None);
        let other = RecordRef::id_of("IpRight:1", RecordKind::ScienceTask).unwrap_err();
        assert!(
            other
                .to_string()
                .contains("is a IpRight, not a ScienceTask"),
            "{other}"
        );
    }
}
