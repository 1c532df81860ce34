use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub code: String,
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub heading: Option<String>,
    pub issued_on: Date,
    #[sea_orm(column_type = "Text")]
    pub issuer: String,
    pub issuer_agency_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub signer: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub signer_title: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub signature_block: Option<String>,
    pub basis_document_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub preamble: Option<String>,
    pub reporting_month: Option<i16>,
    pub reporting_day: Option<i16>,
    #[sea_orm(column_type = "Text")]
    pub reporting_text: Option<String>,
    pub reporting_via_agency_id: Option<i32>,
    pub reporting_to_agency_id: Option<i32>,
    pub loaded_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
