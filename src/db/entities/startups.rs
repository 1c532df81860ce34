crate::db::entities::record_entity! {
    "startups",
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub organisation_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub sector: Option<String>,
    pub founded_year: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub district: Option<String>,
}
