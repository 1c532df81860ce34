use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `webhook-id` header: the same on every attempt of this delivery.
    pub message_id: String,
    pub webhook_id: i32,
    pub event_type: String,
    /// What makes the event unique for one endpoint (`change:<seq>`, `run:<id>`…).
    pub event_key: String,
    pub payload: String,
    /// `PENDING`, `DELIVERED` or `FAILED` (given up).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeWithTimeZone,
    /// A worker is attempting it until then; after, another may.
    pub locked_until: Option<DateTimeWithTimeZone>,
    pub last_attempt_at: Option<DateTimeWithTimeZone>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub last_response: Option<String>,
    pub created_at: DateTimeWithTimeZone,
    pub delivered_at: Option<DateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
