//! Who is calling: roles, API tokens and their hashes.
//!
//! A token is `khcn_` followed by 32 random bytes (base64url). It is shown once, when it
//! is created; the database keeps only its SHA-256 hash and a short prefix to tell
//! tokens apart in listings.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use thiserror::Error;

const TOKEN_PREFIX: &str = "khcn_";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("unknown role {0:?}; expected admin, agency or analyst")]
    UnknownRole(String),
    #[error("the agency role needs --agency CODE (the agency whose records the token may write)")]
    AgencyRequired,
    #[error("the {0} role is not tied to an agency; leave out --agency")]
    AgencyNotAllowed(Role),
    #[error("{0:?} is not a duration such as 90d, 12h or 30m")]
    BadDuration(String),
    #[error("no random bytes are available to make a token: {0}")]
    Random(String),
}

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything.
    Admin,
    /// Writes within its agency's scope; reads the public part.
    Agency,
    /// Reads everything, writes nothing.
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agency => "agency",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(text: &str) -> Result<Self, AuthError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "agency" => Ok(Role::Agency),
            "analyst" => Ok(Role::Analyst),
            other => Err(AuthError::UnknownRole(other.to_owned())),
        }
    }

    /// Checks that the role and the agency fit together.
    pub fn check_agency(self, agency: Option<&str>) -> Result<(), AuthError> {
        match (self, agency) {
            (Role::Agency, None) => Err(AuthError::AgencyRequired),
            (Role::Admin | Role::Analyst, Some(_)) => Err(AuthError::AgencyNotAllowed(self)),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Token {
        token_id: i32,
        role: Role,
        agency_id: Option<i32>,
        /// The agency's stable code, for agency tokens.
        agency_code: Option<String>,
    },
}

impl Caller {
    /// Whether the caller holds a role that writes (agency or admin).
    pub fn can_write(&self) -> bool {
        matches!(
            self,
            Caller::Token {
                role: Role::Admin | Role::Agency,
                ..
            }
        )
    }
}

/// A fresh random token.
pub fn new_token() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The first characters of a token, safe to show in listings.
pub fn token_prefix(token: &str) -> String {
    token.chars().take(TOKEN_PREFIX.len() + 6).collect()
}

/// Reads a lifetime such as `90d`, `12h` or `30m`.
pub fn parse_lifetime(text: &str) -> Result<std::time::Duration, AuthError> {
    humantime::parse_duration(text.trim()).map_err(|_| AuthError::BadDuration(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("khcn_") && a.len() > 40);
        assert_eq!(token_hash(&a).len(), 64);
        assert!(!token_hash(&a).contains(&a[5..]));
        assert_eq!(token_prefix(&a).len(), 11);
    }

    #[test]
    fn roles_and_agencies_must_fit() {
        assert_eq!(Role::parse("Agency"), Ok(Role::Agency));
        assert!(Role::parse("root").is_err());
        assert_eq!(
            Role::Agency.check_agency(None),
            Err(AuthError::AgencyRequired)
        );
        assert!(Role::Admin.check_agency(Some("so-khcn")).is_err());
        assert!(Role::Agency.check_agency(Some("so-khcn")).is_ok());
        assert!(Role::Analyst.check_agency(None).is_ok());
    }

    #[test]
    fn lifetimes_read_like_people_write_them() {
        assert_eq!(parse_lifetime("90d").unwrap().as_secs(), 90 * 86_400);
        assert_eq!(parse_lifetime("12h").unwrap().as_secs(), 12 * 3_600);
        assert!(parse_lifetime("soon").is_err());
    }
}
