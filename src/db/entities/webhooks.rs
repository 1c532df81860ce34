use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event types.
    pub events: String,
    /// JSON array of record kinds; empty: every kind.
    pub kinds: String,
    /// The agency that manages it; none for an admin's.
    pub owner_agency_id: Option<i32>,
    pub created_by: String,
    pub secret: String,
    /// The secret before the last rotation, still signed with until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeWithTimeZone>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; none after a success.
    pub failing_since: Option<DateTimeWithTimeZone>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
