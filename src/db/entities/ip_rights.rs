use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "ip_rights")]
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
    pub right_kind: String,
    #[sea_orm(column_type = "Text")]
    pub product: Option<String>,
    pub farm_product: bool,
    pub jurisdiction: String,
    pub number: Option<String>,
    pub filed_on: Option<Date>,
    pub registered_on: Option<Date>,
    pub status: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub holder: Option<String>,
    pub managing_agency_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
