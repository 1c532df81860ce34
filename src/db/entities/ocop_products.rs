crate::db::entities::record_entity! {
    "ocop_products",
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub producer_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub commune: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub district: Option<String>,
    pub district_code: Option<String>,
    pub stars: i16,
    pub certified_on: Option<Date>,
    pub valid_until: Option<Date>,
    pub evaluation_year: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub category: Option<String>,
}
