//! A small, known set of records, written straight to the database, so that every
//! count, filter and target value in the tests can be worked out by hand.

use chrono::{FixedOffset, NaiveDate, TimeZone};
use khcn_hub::db::entities::{
    agencies, annual_reports, application_models, ip_rights, ocop_products, organisations,
    record_links, science_tasks, startup_support_events, startups, tasks, technology_assessments,
    traceability_entries,
};
use khcn_hub::domain::text::search_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn now() -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .unwrap()
}

pub async fn task_id(db: &DatabaseConnection, code: &str) -> i32 {
    tasks::Entity::find()
        .filter(tasks::Column::Code.eq(code))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn agency_id(db: &DatabaseConnection, code: &str) -> i32 {
    agencies::Entity::find()
        .filter(agencies::Column::Code.eq(code))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}

pub async fn link(db: &DatabaseConnection, task: &str, kind: &str, id: i32) {
    record_links::ActiveModel {
        task_id: Set(task_id(db, task).await),
        record_kind: Set(kind.to_owned()),
        record_id: Set(id),
        linked_by: Set("test".to_owned()),
        linked_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

async fn organisation(db: &DatabaseConnection, name: &str, tax_code: Option<&str>) -> i32 {
    organisations::ActiveModel {
        name: Set(name.to_owned()),
        tax_code: Set(tax_code.map(str::to_owned)),
        kind: Set(Some("cooperative".to_owned())),
        source: Set("test".to_owned()),
        created_at: Set(now()),
        updated_at: Set(now()),
        search_key: Set(search_key(name)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

/// An OCOP product: name, district as published, district code, stars, certified on.
type OcopRow = (
    &'static str,
    &'static str,
    &'static str,
    i16,
    Option<(i32, u32, u32)>,
);

pub const OCOP: [OcopRow; 6] = [
    (
        "Quýt hồng Lai Vung",
        "Huyện Lai Vung",
        "lai-vung",
        3,
        Some((2022, 5, 10)),
    ),
    (
        "Nem Lai Vung",
        "huyện Lai Vung",
        "lai-vung",
        4,
        Some((2023, 8, 1)),
    ),
    (
        "Quýt hồng sấy dẻo",
        "Lai Vung",
        "lai-vung",
        5,
        Some((2024, 3, 15)),
    ),
    ("Sen Tháp Mười", "Huyện Tháp Mười", "thap-muoi", 4, None),
    (
        "Trà tim sen",
        "Huyện Tháp Mười",
        "thap-muoi",
        5,
        Some((2021, 12, 31)),
    ),
    (
        "Hủ tiếu Sa Đéc",
        "Thành phố Sa Đéc",
        "tp-sa-dec",
        3,
        Some((2023, 1, 2)),
    ),
];

pub struct Fixture {
    pub ocop_ids: Vec<i32>,
}

pub async fn load(db: &DatabaseConnection) -> Fixture {
    let cooperative = organisation(db, "HTX Quýt hồng Long Hậu", Some("1400123456")).await;
    let company = organisation(db, "Công ty TNHH Sen Việt", None).await;
    let mut ocop_ids = Vec::new();
    for (i, (name, district, code, stars, certified)) in OCOP.iter().enumerate() {
        let id = ocop_products::ActiveModel {
            source: Set("test".to_owned()),
            external_id: Set(Some(format!("T-{i}"))),
            created_at: Set(now()),
            updated_at: Set(now()),
            version: Set(1),
            search_key: Set(search_key(name)),
            name: Set((*name).to_owned()),
            producer_id: Set(Some(if i % 2 == 0 { cooperative } else { company })),
            commune: Set(Some("Xã Long Hậu".to_owned())),
            district: Set(Some((*district).to_owned())),
            district_code: Set(Some((*code).to_owned())),
            stars: Set(*stars),
            certified_on: Set(certified.map(|(y, m, d)| day(y, m, d))),
            evaluation_year: Set(certified.map(|(y, _, _)| y)),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id;
        ocop_ids.push(id);
    }
    for id in &ocop_ids[..3] {
        link(db, "VII.4", "OCOP_PRODUCT", *id).await;
    }
    for id in &ocop_ids {
        link(db, "V.4", "OCOP_PRODUCT", *id).await;
    }

    // Startups: A supported 2022 and 2024 (counts once, in 2022); B only in 2021 (before
    // the plan: does not count); C in 2025; D never.
    for (name, years) in [
        ("Khởi nghiệp A", vec![2022, 2024]),
        ("Khởi nghiệp B", vec![2021]),
        ("Khởi nghiệp C", vec![2025]),
        ("Khởi nghiệp D", vec![]),
    ] {
        let id = startups::ActiveModel {
            source: Set("test".to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            version: Set(1),
            search_key: Set(search_key(name)),
            name: Set(name.to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id;
        for year in years {
            startup_support_events::ActiveModel {
                startup_id: Set(id),
                year: Set(year),
                kind: Set("hỗ trợ kinh phí".to_owned()),
                amount_vnd: Set(Some(50_000_000)),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
    }

    // S&T tasks: linked and approved (counts, 2023); linked but cancelled; not linked.
    for (i, (title, status, linked)) in [
        ("Đề tài xoài", "APPROVED", true),
        ("Đề tài hủy", "CANCELLED", true),
        ("Đề tài khác", "ACCEPTED", false),
    ]
    .iter()
    .enumerate()
    {
        let id = science_tasks::ActiveModel {
            source: Set("test".to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            version: Set(1),
            search_key: Set(search_key(title)),
            title: Set((*title).to_owned()),
            status: Set(Some((*status).to_owned())),
            start_on: Set(Some(day(2023, 1 + i as u32, 1))),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id;
        if *linked {
            link(db, "II.1", "SCIENCE_TASK", id).await;
        }
    }

    // Application models: 2022 counts, 2019 does not.
    for (title, year) in [("Mô hình sấy xoài", 2022), ("Mô hình cũ", 2019)] {
        application_models::ActiveModel {
            source: Set("test".to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            version: Set(1),
            search_key: Set(search_key(title)),
            title: Set(title.to_owned()),
            year_transferred: Set(Some(year)),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }

    technology_assessments::ActiveModel {
        source: Set("test".to_owned()),
        created_at: Set(now()),
        updated_at: Set(now()),
        version: Set(1),
        search_key: Set(search_key("Công ty Chế biến A")),
        enterprise_name: Set("Công ty Chế biến A".to_owned()),
        year: Set(Some(2023)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();

    // IP rights abroad: registered in Japan for a farm product (counts, 2024); filed
    // only (does not count).
    for (name, status, registered) in [
        ("Cao Lãnh (JP)", "REGISTERED", Some(day(2024, 9, 1))),
        ("Sen (US)", "FILED", None),
    ] {
        ip_rights::ActiveModel {
            source: Set("test".to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            version: Set(1),
            search_key: Set(search_key(name)),
            name: Set(name.to_owned()),
            right_kind: Set("GEOGRAPHICAL_INDICATION".to_owned()),
            farm_product: Set(true),
            jurisdiction: Set(if name.contains("JP") { "JP" } else { "US" }.to_owned()),
            status: Set(Some(status.to_owned())),
            registered_on: Set(registered),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }

    // Annual reports for 2024: on time (14 December) and late (15 December).
    for (agency, submitted) in [
        ("so-khcn", day(2024, 12, 14)),
        ("so-cong-thuong", day(2024, 12, 15)),
    ] {
        annual_reports::ActiveModel {
            source: Set("test".to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            version: Set(1),
            search_key: Set(search_key(&format!("Báo cáo năm 2024 của {agency}"))),
            agency_id: Set(agency_id(db, agency).await),
            year: Set(2024),
            submitted_on: Set(Some(submitted)),
            summary: Set(Some(format!("Báo cáo năm 2024 của {agency}"))),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }

    traceability_entries::ActiveModel {
        source: Set("test".to_owned()),
        created_at: Set(now()),
        updated_at: Set(now()),
        version: Set(1),
        search_key: Set(search_key("08936000000017 L1")),
        event_id: Set("urn:uuid:test-1".to_owned()),
        event_type: Set("ObjectEvent".to_owned()),
        event_time: Set(now()),
        gtin: Set(Some("08936000000017".to_owned())),
        ocop_product_id: Set(Some(ocop_ids[0])),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();

    // Rows written straight to the tables reach the search table only when it is rebuilt,
    // and the hub's caches only once the change log says something changed.
    khcn_hub::store::search::rebuild(db).await.unwrap();
    let txn = sea_orm::TransactionTrait::begin(db).await.unwrap();
    let loaded = khcn_hub::store::changes::PlanChange::seeded();
    khcn_hub::store::changes::append(&txn, &[], Some(&loaded))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    Fixture { ocop_ids }
}
