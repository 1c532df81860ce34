use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agencies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub code: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub name_en: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub search_key: String,
    /// `BodyKind` as stored ("department"…); null when not known.
    pub kind: Option<String>,
    /// First and last day the body existed; null for "before the plan" / "still exists".
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// The agency its duties passed to.
    pub successor_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
