//! A deterministic sample data set (`khcn-hub seed --sample`), large enough to explore
//! and to benchmark: thousands of OCOP products across Đồng Tháp's districts, a thousand
//! startups, 200,000 traceability entries, S&T tasks, models, assessments, reports and
//! links to plan tasks. Every row it writes has `source = "sample"`; the plan and the
//! seven IP rights it names are never touched. Running it twice adds nothing.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
};

use crate::db::entities::{
    agencies, annual_reports, application_models, ip_rights, ocop_products, organisations,
    record_links, science_tasks, startup_support_events, startups, tasks, technology_assessments,
    traceability_entries,
};
use crate::domain::places::DISTRICTS;
use crate::domain::records::RecordKind;
use crate::domain::text::search_key;
use crate::store::StoreError;

pub const SOURCE: &str = "sample";

/// How much the sample holds.
#[derive(Debug, Clone, Copy)]
pub struct SampleSize {
    pub ocop_products: usize,
    pub startups: usize,
    pub traceability_entries: usize,
}

impl Default for SampleSize {
    fn default() -> Self {
        Self {
            ocop_products: 3_000,
            startups: 1_000,
            traceability_entries: 200_000,
        }
    }
}

/// What loading the sample did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SampleOutcome {
    pub organisations: usize,
    pub records: usize,
    pub links: usize,
}

impl std::fmt::Display for SampleOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.records == 0 {
            write!(f, "the sample data set is already loaded; nothing changed")
        } else {
            write!(
                f,
                "loaded the sample data set: {} records, {} organisations, {} links to plan tasks (source \"sample\")",
                self.records, self.organisations, self.links
            )
        }
    }
}

const PRODUCTS: [(&str, &str); 16] = [
    ("Xoài cát chu", "trái cây"),
    ("Xoài cát Hòa Lộc", "trái cây"),
    ("Quýt hồng", "trái cây"),
    ("Trà tim sen", "đồ uống"),
    ("Hạt sen sấy", "thực phẩm"),
    ("Bột ngó sen", "thực phẩm"),
    ("Nem Lai Vung", "thực phẩm"),
    ("Khô cá lóc", "thực phẩm"),
    ("Khô cá sặc", "thực phẩm"),
    ("Bánh phồng tôm Sa Giang", "thực phẩm"),
    ("Hủ tiếu Sa Đéc", "thực phẩm"),
    ("Gạo hữu cơ", "thực phẩm"),
    ("Mật ong tràm", "thực phẩm"),
    ("Rượu sen", "đồ uống"),
    ("Chiếu Định Yên", "thủ công mỹ nghệ"),
    ("Kiểng lá Sa Đéc", "sinh vật cảnh"),
];

const COMMUNES: [&str; 10] = [
    "Xã Tân Thành",
    "Xã Long Hậu",
    "Xã Hòa Thành",
    "Xã Mỹ Thọ",
    "Xã Tân Phước",
    "Xã Bình Thạnh",
    "Xã An Phong",
    "Xã Phú Thọ",
    "Xã Tân Hòa",
    "Xã Vĩnh Thạnh",
];

const SECTORS: [&str; 8] = [
    "nông nghiệp công nghệ cao",
    "chế biến thực phẩm",
    "du lịch",
    "công nghệ thông tin",
    "thương mại điện tử",
    "giáo dục",
    "môi trường",
    "y tế",
];

const SUPPORT_KINDS: [&str; 4] = [
    "đào tạo, huấn luyện",
    "tư vấn sở hữu trí tuệ",
    "hỗ trợ kinh phí",
    "kết nối đầu tư",
];

const BIZ_STEPS: [&str; 6] = [
    "harvesting",
    "packing",
    "storing",
    "shipping",
    "receiving",
    "retail_selling",
];

/// Vietnam's UTC offset (UTC+7, no daylight saving).
fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap_or(Utc.fix())
}

/// A fixed time, so that every run of the sample writes identical rows.
fn stamp() -> DateTime<FixedOffset> {
    vietnam()
        .with_ymd_and_hms(2025, 11, 1, 8, 0, 0)
        .single()
        .unwrap_or_else(|| DateTime::UNIX_EPOCH.fixed_offset())
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A GTIN-13 with a valid GS1 check digit, from a 12-digit body.
pub fn gtin13(body: u64) -> String {
    let digits: Vec<u32> = format!("{:012}", body % 1_000_000_000_000)
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    let check = (10 - sum % 10) % 10;
    format!("{:012}{check}", body % 1_000_000_000_000)
}

/// Loads the sample unless it is already there.
pub async fn load_sample(
    db: &DatabaseConnection,
    size: SampleSize,
) -> Result<SampleOutcome, StoreError> {
    let already = ocop_products::Entity::find()
        .filter(ocop_products::Column::Source.eq(SOURCE))
        .count(db)
        .await?;
    if already > 0 {
        return Ok(SampleOutcome::default());
    }
    let txn = db.begin().await?;
    let outcome = write_sample(&txn, size).await?;
    txn.commit().await?;
    // Fresh statistics, so the planner knows the tables are no longer nearly empty.
    db.execute_unprepared("ANALYZE").await?;
    Ok(outcome)
}

async fn task_id<C: ConnectionTrait>(db: &C, code: &str) -> Result<i32, StoreError> {
    tasks::Entity::find()
        .filter(tasks::Column::Code.eq(code))
        .one(db)
        .await?
        .map(|t| t.id)
        .ok_or_else(|| {
            StoreError::Invalid(format!("the plan has no task {code}; load the plan first"))
        })
}

/// Inserts rows in chunks that stay under every backend's bound-parameter limit.
macro_rules! insert_chunked {
    ($db:expr, $entity:ty, $rows:expr, $chunk:expr) => {{
        let mut rows = $rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take($chunk).collect();
            <$entity>::insert_many(chunk)
                .exec_without_returning($db)
                .await?;
        }
    }};
}

async fn ids_of_source<C: ConnectionTrait, E>(db: &C) -> Result<Vec<i32>, StoreError>
where
    E: EntityTrait,
{
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
    let table = E::default();
    let statement = db.get_database_backend().build(
        Query::select()
            .column(Alias::new("id"))
            .from(table)
            .and_where(Expr::col(Alias::new("source")).eq(SOURCE))
            .order_by(Alias::new("id"), Order::Asc),
    );
    let rows = db.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| row.try_get::<i32>("", "id").map_err(StoreError::from))
        .collect()
}

async fn write_sample<C: ConnectionTrait>(
    db: &C,
    size: SampleSize,
) -> Result<SampleOutcome, StoreError> {
    let mut rng = fastrand::Rng::with_seed(136_2022);
    let now = stamp();
    let mut outcome = SampleOutcome::default();

    // Organisations: producers, startups, hosts.
    let producer_count = size.ocop_products / 2 + 1;
    let host_count = 30;
    let mut organisations_rows = Vec::new();
    for i in 0..producer_count {
        let district = &DISTRICTS[i % DISTRICTS.len()];
        let name = match i % 3 {
            0 => format!("HTX Nông nghiệp {} số {}", district.short_name, i + 1),
            1 => format!("Công ty TNHH {} {}", PRODUCTS[i % PRODUCTS.len()].0, i + 1),
            _ => format!("Cơ sở sản xuất {} {}", district.short_name, i + 1),
        };
        organisations_rows.push(organisation(
            &name,
            None,
            "producer",
            Some(district.name),
            now,
        ));
    }
    for i in 0..size.startups {
        let name = format!(
            "Công ty Khởi nghiệp {} {}",
            SECTORS[i % SECTORS.len()],
            i + 1
        );
        // Even starts: a skipped number lands on an odd one no other startup uses.
        let tax_code = crate::domain::validate::next_valid_tax_code(140_100_000 + 2 * i as u64);
        organisations_rows.push(organisation(
            &name,
            Some(tax_code),
            "startup",
            Some(DISTRICTS[i % DISTRICTS.len()].name),
            now,
        ));
    }
    for i in 0..host_count {
        let name = match i % 3 {
            0 => format!("Viện nghiên cứu ứng dụng {}", i + 1),
            1 => format!("Trường Đại học Đồng Tháp — nhóm nghiên cứu {}", i + 1),
            _ => format!("Trung tâm Ứng dụng tiến bộ KH&CN nhóm {}", i + 1),
        };
        organisations_rows.push(organisation(&name, None, "institute", None, now));
    }
    outcome.organisations = organisations_rows.len();
    insert_chunked!(db, organisations::Entity, organisations_rows, 1_000);
    let org_ids: Vec<i32> = {
        let rows = organisations::Entity::find()
            .filter(organisations::Column::Source.eq(SOURCE))
            .all(db)
            .await?;
        let mut ids: Vec<i32> = rows.into_iter().map(|o| o.id).collect();
        ids.sort_unstable();
        ids
    };
    let producers = &org_ids[..producer_count];
    let startup_orgs = &org_ids[producer_count..producer_count + size.startups];
    let hosts = &org_ids[producer_count + size.startups..];

    // OCOP products.
    let mut ocop_rows = Vec::with_capacity(size.ocop_products);
    for i in 0..size.ocop_products {
        let district = &DISTRICTS[rng.usize(..DISTRICTS.len())];
        let (product, category) = PRODUCTS[rng.usize(..PRODUCTS.len())];
        let year = rng.i32(2019..=2025);
        let certified = date(year, rng.u32(1..=12), rng.u32(1..=28));
        let stars = match rng.u8(..10) {
            0..=5 => 3,
            6..=8 => 4,
            _ => 5,
        };
        let name = format!("{product} {} ({})", district.short_name, i + 1);
        ocop_rows.push(ocop_products::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("OCOP-DT-{:05}", i + 1))),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            search_key: Set(search_key(&name)),
            name: Set(name),
            producer_id: Set(Some(producers[rng.usize(..producers.len())])),
            commune: Set(Some(COMMUNES[rng.usize(..COMMUNES.len())].to_owned())),
            district: Set(Some(district.name.to_owned())),
            district_code: Set(Some(district.code.to_owned())),
            stars: Set(stars),
            certified_on: Set(certified),
            valid_until: Set(certified.and_then(|d| date(d.year() + 3, 12, 31))),
            evaluation_year: Set(Some(year)),
            category: Set(Some(category.to_owned())),
            ..Default::default()
        });
    }
    outcome.records += ocop_rows.len();
    insert_chunked!(db, ocop_products::Entity, ocop_rows, 1_000);
    let ocop_ids = ids_of_source::<_, ocop_products::Entity>(db).await?;

    // Startups and their support.
    let mut startup_rows = Vec::with_capacity(size.startups);
    for (i, org) in startup_orgs.iter().enumerate() {
        let name = format!("Khởi nghiệp {} {}", SECTORS[i % SECTORS.len()], i + 1);
        startup_rows.push(startups::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("{}", 1_401_000_000u64 + i as u64))),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            search_key: Set(search_key(&name)),
            name: Set(name),
            organisation_id: Set(Some(*org)),
            sector: Set(Some(SECTORS[i % SECTORS.len()].to_owned())),
            founded_year: Set(Some(rng.i32(2015..=2024))),
            district: Set(Some(DISTRICTS[i % DISTRICTS.len()].name.to_owned())),
            ..Default::default()
        });
    }
    outcome.records += startup_rows.len();
    insert_chunked!(db, startups::Entity, startup_rows, 1_000);
    let startup_ids = ids_of_source::<_, startups::Entity>(db).await?;
    let mut events = Vec::new();
    for id in &startup_ids {
        // Most startups get no support; the supported ones get one to three events.
        if rng.u8(..100) < 3 {
            for _ in 0..rng.usize(1..=3) {
                events.push(startup_support_events::ActiveModel {
                    startup_id: Set(*id),
                    year: Set(rng.i32(2020..=2025)),
                    kind: Set(SUPPORT_KINDS[rng.usize(..SUPPORT_KINDS.len())].to_owned()),
                    amount_vnd: Set(Some(i64::from(rng.u32(5..=200)) * 1_000_000)),
                    ..Default::default()
                });
            }
        }
    }
    insert_chunked!(db, startup_support_events::Entity, events, 1_000);

    // IP rights beyond the seven of the plan, two of them registered abroad.
    let abroad = [
        (
            "Cao Lãnh (Nhật Bản)",
            "GEOGRAPHICAL_INDICATION",
            "xoài",
            "JP",
            Some("REGISTERED"),
            date(2024, 9, 20),
        ),
        (
            "Dong Thap Lotus Seeds",
            "TRADEMARK",
            "hạt sen",
            "US",
            Some("FILED"),
            None,
        ),
    ];
    let mut ip_rows = Vec::new();
    for (i, (name, kind, product, jurisdiction, status, registered)) in abroad.iter().enumerate() {
        ip_rows.push(ip_right(
            &format!("SAMPLE-IP-{}", i + 1),
            name,
            kind,
            Some(product),
            true,
            jurisdiction,
            *status,
            *registered,
            now,
        ));
    }
    for i in 0..10 {
        let (product, _) = PRODUCTS[i % PRODUCTS.len()];
        let name = format!("{product} Đồng Tháp {}", i + 1);
        ip_rows.push(ip_right(
            &format!("SAMPLE-IP-{}", i + 3),
            &name,
            "COLLECTIVE_MARK",
            Some(product),
            true,
            "VN",
            Some("REGISTERED"),
            date(2020 + (i as i32 % 6), 5, 1),
            now,
        ));
    }
    outcome.records += ip_rows.len();
    insert_chunked!(db, ip_rights::Entity, ip_rows, 500);
    let ip_ids = ids_of_source::<_, ip_rights::Entity>(db).await?;

    // Traceability entries.
    let base_time = vietnam()
        .with_ymd_and_hms(2022, 1, 1, 6, 0, 0)
        .single()
        .unwrap_or(now);
    let mut trace_rows = Vec::with_capacity(10_000);
    for i in 0..size.traceability_entries {
        let event_time = base_time + Duration::minutes(rng.i64(0..(4 * 365 * 24 * 60)));
        let gtin = gtin13(893_600_000_000 + rng.u64(0..2_000));
        let lot = format!("L{}{:04}", 22 + rng.u8(0..4), rng.u16(0..10_000));
        let traces_ocop = !ocop_ids.is_empty() && rng.bool();
        trace_rows.push(traceability_entries::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("urn:uuid:sample-{i:08}"))),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            search_key: Set(search_key(&format!("{gtin} {lot}"))),
            event_id: Set(format!("urn:uuid:sample-{i:08}")),
            event_type: Set("ObjectEvent".to_owned()),
            event_time: Set(event_time),
            event_time_zone_offset: Set(Some("+07:00".to_owned())),
            record_time: Set(Some(event_time + Duration::minutes(5))),
            action: Set(Some("OBSERVE".to_owned())),
            biz_step: Set(Some(BIZ_STEPS[rng.usize(..BIZ_STEPS.len())].to_owned())),
            disposition: Set(Some("in_progress".to_owned())),
            epc: Set(Some(format!("https://id.gs1.org/01/0{gtin}/10/{lot}"))),
            gtin: Set(Some(format!("0{gtin}"))),
            lot: Set(Some(lot)),
            quantity: Set(Some(f64::from(rng.u32(1..=500)))),
            uom: Set(Some("KGM".to_owned())),
            location_name: Set(Some(
                DISTRICTS[rng.usize(..DISTRICTS.len())].name.to_owned(),
            )),
            growing_area_code: Set(Some(format!("VN-DTMS-{:04}", rng.u16(1..400)))),
            ocop_product_id: Set(traces_ocop.then(|| ocop_ids[rng.usize(..ocop_ids.len())])),
            ip_right_id: Set(
                (!traces_ocop && !ip_ids.is_empty()).then(|| ip_ids[rng.usize(..ip_ids.len())])
            ),
            ..Default::default()
        });
        if trace_rows.len() == 10_000 {
            outcome.records += trace_rows.len();
            insert_chunked!(
                db,
                traceability_entries::Entity,
                std::mem::take(&mut trace_rows),
                500
            );
        }
    }
    outcome.records += trace_rows.len();
    insert_chunked!(db, traceability_entries::Entity, trace_rows, 500);
    let trace_ids = ids_of_source::<_, traceability_entries::Entity>(db).await?;

    // S&T tasks, application models, technology assessments.
    let mut science_rows = Vec::new();
    for i in 0..45 {
        let title = format!(
            "Nghiên cứu ứng dụng công nghệ {} phục vụ tái cơ cấu nông nghiệp (mẫu {})",
            SECTORS[i % SECTORS.len()],
            i + 1
        );
        let start = date(2021 + (i as i32 % 5), 1 + (i as u32 % 12), 1);
        science_rows.push(science_tasks::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("DT-KHCN-{:03}", i + 1))),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            search_key: Set(search_key(&title)),
            code: Set(Some(format!("DT-KHCN-{:03}", i + 1))),
            title: Set(title),
            level: Set(Some(
                if i % 7 == 0 { "NATIONAL" } else { "PROVINCIAL" }.to_owned(),
            )),
            host_id: Set(Some(hosts[i % hosts.len()])),
            budget_vnd: Set(Some(i64::from(rng.u32(300..=4_000)) * 1_000_000)),
            start_on: Set(start),
            end_on: Set(start.and_then(|d| d.checked_add_signed(Duration::days(730)))),
            status: Set(Some(
                ["APPROVED", "IN_PROGRESS", "ACCEPTED", "CANCELLED"][i % 4].to_owned(),
            )),
            ..Default::default()
        });
    }
    outcome.records += science_rows.len();
    insert_chunked!(db, science_tasks::Entity, science_rows, 500);
    let science_ids = ids_of_source::<_, science_tasks::Entity>(db).await?;

    let mut model_rows = Vec::new();
    for i in 0..32 {
        let title = format!(
            "Mô hình ứng dụng {} (mẫu {})",
            [
                "sản xuất lúa thông minh",
                "nuôi cá tra tuần hoàn",
                "sấy xoài năng lượng mặt trời",
                "truy xuất nguồn gốc sen"
            ][i % 4],
            i + 1
        );
        model_rows.push(application_models::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("MH-{:03}", i + 1))),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            search_key: Set(search_key(&title)),
            title: Set(title),
            field: Set(Some(
                ["nông nghiệp", "thủy sản", "chế biến", "công nghệ thông tin"][i % 4].to_owned(),
            )),
            host_id: Set(Some(hosts[(i * 7) % hosts.len()])),
            year_transferred: Set(Some(2021 + (i as i32 % 5))),
            ..Default::default()
        });
    }
    outcome.records += model_rows.len();
    insert_chunked!(db, application_models::Entity, model_rows, 500);
    let model_ids = ids_of_source::<_, application_models::Entity>(db).await?;

    let mut assessment_rows = Vec::new();
    for i in 0..12 {
        let enterprise = format!("Công ty Chế biến thực phẩm mẫu {}", i + 1);
        assessment_rows.push(technology_assessments::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("DG-CN-{:03}", i + 1))),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            search_key: Set(search_key(&enterprise)),
            enterprise_id: Set(Some(producers[i % producers.len()])),
            enterprise_name: Set(enterprise),
            industry: Set(Some("công nghiệp chế biến".to_owned())),
            year: Set(Some(2022 + (i as i32 % 2))),
            level: Set(Some(
                ["trung bình", "trung bình khá", "tiên tiến"][i % 3].to_owned(),
            )),
            ..Default::default()
        });
    }
    outcome.records += assessment_rows.len();
    insert_chunked!(db, technology_assessments::Entity, assessment_rows, 500);
    let assessment_ids = ids_of_source::<_, technology_assessments::Entity>(db).await?;

    // Annual reports: most agencies report on time, some late, some not at all.
    let agency_rows = agencies::Entity::find().all(db).await?;
    let mut report_rows = Vec::new();
    for (i, agency) in agency_rows.iter().enumerate() {
        for year in 2022..=2025 {
            let submitted = match (i + year as usize) % 6 {
                0 => None,
                1 => date(year, 12, 20),
                _ => date(year, 11 + (i as u32 % 2), 1 + (i as u32 % 14)),
            };
            if submitted.is_none() {
                continue;
            }
            let summary = format!(
                "Báo cáo kết quả thực hiện Kế hoạch 136/KH-UBND năm {year} của {}",
                agency.name
            );
            report_rows.push(annual_reports::ActiveModel {
                source: Set(SOURCE.to_owned()),
                external_id: Set(Some(format!("BC-{}-{year}", agency.code))),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                search_key: Set(search_key(&summary)),
                agency_id: Set(agency.id),
                year: Set(year),
                submitted_on: Set(submitted),
                summary: Set(Some(summary)),
                ..Default::default()
            });
        }
    }
    outcome.records += report_rows.len();
    insert_chunked!(db, annual_reports::Entity, report_rows, 500);

    // Links to the plan tasks each kind serves.
    let mut links = Vec::new();
    let mut link = |task: i32, kind: RecordKind, id: i32| {
        links.push(record_links::ActiveModel {
            task_id: Set(task),
            record_kind: Set(kind.as_str().to_owned()),
            record_id: Set(id),
            linked_by: Set(SOURCE.to_owned()),
            linked_at: Set(now),
            ..Default::default()
        });
    };
    let ocop_task = task_id(db, "V.4").await?;
    for id in &ocop_ids {
        link(ocop_task, RecordKind::OcopProduct, *id);
    }
    let startup_task = task_id(db, "V.2").await?;
    for id in &startup_ids {
        link(startup_task, RecordKind::Startup, *id);
    }
    let science_tasks_codes = ["II.1", "II.3", "III.1", "I.1"];
    for (i, id) in science_ids.iter().enumerate() {
        link(
            task_id(db, science_tasks_codes[i % science_tasks_codes.len()]).await?,
            RecordKind::ScienceTask,
            *id,
        );
    }
    let model_task = task_id(db, "II.2").await?;
    for id in &model_ids {
        link(model_task, RecordKind::ApplicationModel, *id);
    }
    let assessment_task = task_id(db, "III.3").await?;
    for id in &assessment_ids {
        link(assessment_task, RecordKind::TechnologyAssessment, *id);
    }
    let brand_task = task_id(db, "IV.3").await?;
    for id in &ip_ids {
        link(brand_task, RecordKind::IpRight, *id);
    }
    let trace_task = task_id(db, "IV.2").await?;
    for id in trace_ids.iter().step_by(20) {
        link(trace_task, RecordKind::TraceabilityEntry, *id);
    }
    // Every task led by the Department of Science and Technology gets a few OCOP links,
    // so cross-domain questions have answers everywhere.
    let sample_tasks = tasks::Entity::find().all(db).await?;
    for (i, task) in sample_tasks.iter().enumerate() {
        if task.id != ocop_task {
            for j in 0..12 {
                link(
                    task.id,
                    RecordKind::OcopProduct,
                    ocop_ids[(i * 37 + j * 11) % ocop_ids.len()],
                );
            }
        }
    }
    outcome.links = links.len();
    insert_chunked!(db, record_links::Entity, links, 1_000);
    Ok(outcome)
}

#[allow(clippy::too_many_arguments)]
fn ip_right(
    external_id: &str,
    name: &str,
    kind: &str,
    product: Option<&str>,
    farm_product: bool,
    jurisdiction: &str,
    status: Option<&str>,
    registered_on: Option<NaiveDate>,
    now: DateTime<FixedOffset>,
) -> ip_rights::ActiveModel {
    ip_rights::ActiveModel {
        source: Set(SOURCE.to_owned()),
        external_id: Set(Some(external_id.to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        search_key: Set(crate::store::seed::ip_right_search_key(name, product)),
        name: Set(name.to_owned()),
        right_kind: Set(kind.to_owned()),
        product: Set(product.map(str::to_owned)),
        farm_product: Set(farm_product),
        jurisdiction: Set(jurisdiction.to_owned()),
        status: Set(status.map(str::to_owned)),
        registered_on: Set(registered_on),
        filed_on: Set(registered_on.and_then(|d| d.checked_sub_signed(Duration::days(400)))),
        ..Default::default()
    }
}

fn organisation(
    name: &str,
    tax_code: Option<String>,
    kind: &str,
    district: Option<&str>,
    now: DateTime<FixedOffset>,
) -> organisations::ActiveModel {
    organisations::ActiveModel {
        name: Set(name.to_owned()),
        tax_code: Set(tax_code),
        kind: Set(Some(kind.to_owned())),
        district: Set(district.map(str::to_owned)),
        source: Set(SOURCE.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        search_key: Set(search_key(name)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_tax_codes_are_valid_and_distinct() {
        let codes: std::collections::HashSet<String> = (0..2_000u64)
            .map(|i| crate::domain::validate::next_valid_tax_code(140_100_000 + 2 * i))
            .inspect(|code| {
                assert!(
                    crate::domain::validate::check_tax_code(code).is_ok(),
                    "{code}"
                )
            })
            .collect();
        assert_eq!(codes.len(), 2_000);
    }

    #[test]
    fn sample_gtins_carry_valid_check_digits() {
        // 629104150021 → check digit 3 (GS1's worked example).
        assert_eq!(gtin13(629_104_150_021), "6291041500213");
    }
}
