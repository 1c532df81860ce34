use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "startup_support_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub startup_id: i32,
    pub year: i32,
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    pub amount_vnd: Option<i64>,
    pub agency_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
