crate::db::entities::record_entity! {
    "science_tasks",
    pub code: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub level: Option<String>,
    pub host_id: Option<i32>,
    pub budget_vnd: Option<i64>,
    pub start_on: Option<Date>,
    pub end_on: Option<Date>,
    pub status: Option<String>,
}
