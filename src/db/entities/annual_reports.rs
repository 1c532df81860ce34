use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "annual_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub source: String,
    pub external_id: Option<String>,
    pub fetched_at: Option<DateTimeWithTimeZone>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    pub version: i64,
    pub archived_at: Option<DateTimeWithTimeZone>,
    pub withdrawn_at: Option<DateTimeWithTimeZone>,
    #[sea_orm(column_type = "Text")]
    pub search_key: String,
    pub agency_id: i32,
    pub year: i32,
    pub submitted_on: Option<Date>,
    #[sea_orm(column_type = "Text")]
    pub summary: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
