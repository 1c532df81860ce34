use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connector_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub watermark: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub cursor: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub etag: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_modified: Option<String>,
    pub snapshot_started_at: Option<DateTimeWithTimeZone>,
    pub consecutive_failures: i32,
    pub paused: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub paused_reason: Option<String>,
    pub running_since: Option<DateTimeWithTimeZone>,
    pub updated_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
