crate::db::entities::record_entity! {
    "application_models",
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub field: Option<String>,
    pub host_id: Option<i32>,
    pub year_transferred: Option<i32>,
}
