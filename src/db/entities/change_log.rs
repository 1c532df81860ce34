use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub kind: String,
    pub record_id: Option<i32>,
    pub action: String,
    pub version: i64,
    pub source: String,
    pub owner_agency_id: Option<i32>,
    pub agency_only: bool,
    pub archived: bool,
    pub actor: String,
    pub task_code: Option<String>,
    pub at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
