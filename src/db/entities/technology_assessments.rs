crate::db::entities::record_entity! {
    "technology_assessments",
    pub enterprise_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub enterprise_name: String,
    #[sea_orm(column_type = "Text")]
    pub industry: Option<String>,
    pub year: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub level: Option<String>,
}
