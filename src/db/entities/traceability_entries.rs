crate::db::entities::record_entity! {
    "traceability_entries",
    pub event_id: String,
    pub event_type: String,
    pub event_time: DateTimeWithTimeZone,
    pub event_time_zone_offset: Option<String>,
    pub record_time: Option<DateTimeWithTimeZone>,
    pub action: Option<String>,
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub epc: Option<String>,
    pub gtin: Option<String>,
    pub lot: Option<String>,
    pub serial: Option<String>,
    pub quantity: Option<f64>,
    pub uom: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub read_point: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub biz_location: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub location_name: Option<String>,
    pub growing_area_code: Option<String>,
    pub ip_right_id: Option<i32>,
    pub ocop_product_id: Option<i32>,
}
