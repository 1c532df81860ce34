crate::db::entities::record_entity! {
    "annual_reports",
    pub agency_id: i32,
    pub year: i32,
    pub submitted_on: Option<Date>,
    #[sea_orm(column_type = "Text")]
    pub summary: Option<String>,
}
