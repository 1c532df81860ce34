use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legal_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub number: String,
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    pub issued_on: Option<Date>,
    #[sea_orm(column_type = "Text")]
    pub issuer: Option<String>,
    pub issuer_agency_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub title: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
