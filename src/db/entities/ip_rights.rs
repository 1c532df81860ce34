crate::db::entities::record_entity! {
    "ip_rights",
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub right_kind: String,
    #[sea_orm(column_type = "Text")]
    pub product: Option<String>,
    pub farm_product: bool,
    pub jurisdiction: String,
    pub number: Option<String>,
    pub filed_on: Option<Date>,
    pub registered_on: Option<Date>,
    pub status: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub holder: Option<String>,
    pub managing_agency_id: Option<i32>,
}
