use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub plan_id: i32,
    pub key: String,
    pub position: i32,
    pub kind: String,
    pub target_value: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub unit: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub unit_en: Option<String>,
    pub due_year: i32,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    #[sea_orm(column_type = "Text")]
    pub description_en: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
