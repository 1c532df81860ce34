use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "ocop_products")]
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
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub producer_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub commune: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub district: Option<String>,
    pub district_code: Option<String>,
    pub stars: i16,
    pub certified_on: Option<Date>,
    pub valid_until: Option<Date>,
    pub evaluation_year: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub category: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
