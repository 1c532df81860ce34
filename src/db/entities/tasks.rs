use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub plan_id: i32,
    pub section_id: i32,
    pub parent_id: Option<i32>,
    pub code: String,
    pub number: String,
    pub position: i32,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub lead_agency_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub lead_text: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub coordinators_text: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub deliverable: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub timeline_text: Option<String>,
    pub timeline_recurring: Option<bool>,
    pub timeline_start_year: Option<i32>,
    pub timeline_end_year: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub search_key: String,
    pub progress_status: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub progress_note: Option<String>,
    pub progress_updated_at: Option<DateTimeWithTimeZone>,
    /// JSON array of evidence links.
    #[sea_orm(column_type = "Text", nullable)]
    pub progress_evidence: Option<String>,
    pub progress_version: i64,
    pub progress_updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
