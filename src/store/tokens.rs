//! API tokens: create, list, revoke, and find the one a request carries.

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::StoreError;
use crate::db::entities::{agencies, api_tokens};
use crate::domain::auth::{Caller, Role, new_token, token_hash, token_prefix};

/// A token just made: the secret itself is returned once, never stored.
#[derive(Debug)]
pub struct NewToken {
    pub id: i32,
    pub token: String,
    pub record: api_tokens::Model,
}

pub async fn create_token(
    db: &DatabaseConnection,
    role: Role,
    agency_code: Option<&str>,
    lifetime: Option<std::time::Duration>,
    label: Option<String>,
) -> Result<NewToken, StoreError> {
    role.check_agency(agency_code)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let agency_id = match agency_code {
        Some(code) => Some(
            agencies::Entity::find()
                .filter(agencies::Column::Code.eq(code.trim()))
                .one(db)
                .await?
                .ok_or_else(|| StoreError::Invalid(format!("no agency has the code {code:?}")))?
                .id,
        ),
        None => None,
    };
    let now = Utc::now().fixed_offset();
    let expires_at = match lifetime {
        Some(lifetime) => Some(
            now + chrono::Duration::from_std(lifetime)
                .map_err(|_| StoreError::Invalid("the lifetime is too long".into()))?,
        ),
        None => None,
    };
    let token = new_token().map_err(|e| StoreError::Invalid(e.to_string()))?;
    let record = api_tokens::ActiveModel {
        token_hash: Set(token_hash(&token)),
        prefix: Set(token_prefix(&token)),
        role: Set(role.as_str().to_owned()),
        agency_id: Set(agency_id),
        label: Set(label),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(NewToken {
        id: record.id,
        token,
        record,
    })
}

pub async fn list_tokens(db: &DatabaseConnection) -> Result<Vec<api_tokens::Model>, StoreError> {
    Ok(api_tokens::Entity::find()
        .order_by_asc(api_tokens::Column::Id)
        .all(db)
        .await?)
}

/// Revokes a token; `false` when there is no such token.
pub async fn revoke_token(db: &DatabaseConnection, id: i32) -> Result<bool, StoreError> {
    let Some(found) = api_tokens::Entity::find_by_id(id).one(db).await? else {
        return Ok(false);
    };
    if found.revoked_at.is_none() {
        let mut active: api_tokens::ActiveModel = found.into();
        active.revoked_at = Set(Some(Utc::now().fixed_offset()));
        active.update(db).await?;
    }
    Ok(true)
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Revoked,
    Expired,
}

impl TokenRefusal {
    /// What the caller is told.
    pub fn message(self) -> &'static str {
        match self {
            TokenRefusal::Unknown => "the token is not known",
            TokenRefusal::Revoked => "the token has been revoked",
            TokenRefusal::Expired => "the token has expired",
        }
    }
}

/// The caller a bearer token stands for, or why it is refused.
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<FixedOffset>,
) -> Result<Result<Caller, TokenRefusal>, StoreError> {
    let found = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(token_hash(token.trim())))
        .one(db)
        .await?;
    let Some(found) = found else {
        return Ok(Err(TokenRefusal::Unknown));
    };
    if found.revoked_at.is_some() {
        return Ok(Err(TokenRefusal::Revoked));
    }
    if found.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(TokenRefusal::Expired));
    }
    let role = Role::parse(&found.role).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let agency_code = match found.agency_id {
        Some(id) => agencies::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|agency| agency.code),
        None => None,
    };
    Ok(Ok(Caller::Token {
        token_id: found.id,
        role,
        agency_id: found.agency_id,
        agency_code,
    }))
}
