//! A deterministic sample data set (`khcn-hub seed --sample`), large enough to explore
//! and to benchmark: thousands of OCOP products across Đồng Tháp's districts, a thousand
//! startups, 200,000 traceability entries, S&T tasks, models, assessments, reports and
//! links to plan tasks. Every row it writes has `source = "sample"`; the plan and the
//! seven IP rights it names are never touched. Running it twice adds nothing.
//! `--scale N` writes N copies of it, each numbered on from the one before.

use std::num::NonZeroUsize;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};
use thiserror::Error;

use crate::db::entities::{
    agencies, annual_reports, application_models, ip_rights, ocop_products, organisations,
    record_links, science_tasks, startup_support_events, startups, tasks, technology_assessments,
    traceability_entries,
};
use crate::domain::places::DISTRICTS;
use crate::domain::records::RecordKind;
use crate::domain::text::search_key;
use crate::records::{
    application_model, ip_right, ocop_product, science_task, startup, technology_assessment,
    traceability_entry,
};
use crate::store::StoreError;

pub const SOURCE: &str = "sample";

/// How much the sample holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A sample size that is not three whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "{0:?} is not a sample size: write OCOP_PRODUCTS,STARTUPS,TRACEABILITY_ENTRIES, e.g. 3000,1000,200000"
)]
pub struct SampleSizeError(String);

impl std::str::FromStr for SampleSize {
    type Err = SampleSizeError;

    /// `OCOP_PRODUCTS,STARTUPS,TRACEABILITY_ENTRIES`, e.g. `3000,1000,200000`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || SampleSizeError(text.to_owned());
        let numbers = text
            .split(',')
            .map(|part| part.trim().parse::<usize>().map_err(|_| invalid()))
            .collect::<Result<Vec<_>, _>>()?;
        match numbers[..] {
            [ocop_products, startups, traceability_entries] => Ok(Self {
                ocop_products,
                startups,
                traceability_entries,
            }),
            _ => Err(invalid()),
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
    load_scaled_sample(db, size, NonZeroUsize::MIN).await
}

/// Loads `scale` copies of the sample unless it is already there: each copy has the
/// rows, links and distributions of one sample, numbered on from the copy before it.
/// One copy is exactly what [`load_sample`] loads.
pub async fn load_scaled_sample(
    db: &DatabaseConnection,
    size: SampleSize,
    scale: NonZeroUsize,
) -> Result<SampleOutcome, StoreError> {
    let already = ocop_products::Entity::find()
        .filter(ocop_products::Column::Source.eq(SOURCE))
        .count(db)
        .await?;
    if already > 0 {
        return Ok(SampleOutcome::default());
    }
    let txn = db.begin().await?;
    let outcome = write_sample(&txn, size, scale.get()).await?;
    crate::store::search::rebuild(&txn).await?;
    let seeded = crate::store::changes::PlanChange::seeded();
    crate::store::changes::append(&txn, &[], Some(&seeded)).await?;
    txn.commit().await?;
    // Fresh statistics, so the planner knows the tables are no longer nearly empty. On
    // PostgreSQL a vacuum also marks the new rows visible to all, without which no scan
    // can answer from an index alone, and merges the trigram index's list of pending
    // entries, which every search reads through until then (5 → 2.4 ms for a search
    // right after loading the sample); autovacuum would, but later, or never if it is
    // off. SQLite has neither to do.
    let refresh = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "VACUUM (ANALYZE)",
        _ => "ANALYZE",
    };
    db.execute_unprepared(refresh).await?;
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

/// Rows of one table on their way to the database, inserted `per_statement` at a time
/// (under every backend's bound-parameter limit) so that memory stays flat whatever the
/// scale.
struct Batch<A> {
    pending: Vec<A>,
    per_statement: usize,
    written: usize,
}

impl<A> Batch<A>
where
    A: ActiveModelTrait + Send,
{
    fn new(per_statement: usize) -> Self {
        Self {
            pending: Vec::with_capacity(per_statement),
            per_statement,
            written: 0,
        }
    }

    async fn push<C: ConnectionTrait>(&mut self, db: &C, row: A) -> Result<(), StoreError> {
        self.pending.push(row);
        if self.pending.len() >= self.per_statement {
            self.flush(db).await?;
        }
        Ok(())
    }

    async fn flush<C: ConnectionTrait>(&mut self, db: &C) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::replace(&mut self.pending, Vec::with_capacity(self.per_statement));
        self.written += rows.len();
        A::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    /// Inserts what is left; returns how many rows the batch wrote in all.
    async fn finish<C: ConnectionTrait>(mut self, db: &C) -> Result<usize, StoreError> {
        self.flush(db).await?;
        Ok(self.written)
    }
}

/// The ids of the sample's rows in `E`, in insertion order.
async fn ids_of_source<C: ConnectionTrait, E>(db: &C) -> Result<Vec<i32>, StoreError>
where
    E: EntityTrait,
{
    ids_of_source_after::<C, E>(db, 0, None).await
}

/// The ids of the sample's rows in `E` after `after`, in insertion order, at most
/// `limit` of them.
async fn ids_of_source_after<C: ConnectionTrait, E>(
    db: &C,
    after: i32,
    limit: Option<usize>,
) -> Result<Vec<i32>, StoreError>
where
    E: EntityTrait,
{
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
    let table = E::default();
    let mut query = Query::select();
    query
        .column(Alias::new("id"))
        .from(table)
        .and_where(Expr::col(Alias::new("source")).eq(SOURCE))
        .and_where(Expr::col(Alias::new("id")).gt(after))
        .order_by(Alias::new("id"), Order::Asc);
    if let Some(limit) = limit {
        query.limit(u64::try_from(limit).unwrap_or(u64::MAX));
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<i32>("", "id").map_err(StoreError::from))
        .collect()
}

/// Splits ids in insertion order into one equal run per copy.
fn per_copy(ids: &[i32], copies: usize) -> Vec<Vec<i32>> {
    let each = ids.len() / copies.max(1);
    (0..copies)
        .map(|copy| ids[copy * each..(copy + 1) * each].to_vec())
        .collect()
}

/// Reads the ids `E`'s sample rows received and gives each copy its own run of them.
async fn share_ids<C: ConnectionTrait, E: EntityTrait>(
    db: &C,
    ids: &mut [CopyIds],
    field: fn(&mut CopyIds) -> &mut Vec<i32>,
) -> Result<(), StoreError> {
    let all = ids_of_source::<C, E>(db).await?;
    let runs = per_copy(&all, ids.len());
    for (copy, run) in ids.iter_mut().zip(runs) {
        *field(copy) = run;
    }
    Ok(())
}

/// One copy of the sample: its rows are numbered on from the copy before it, so that
/// names and external ids never collide, while everything drawn from a row's position
/// in its copy (district, sector, host…) repeats.
#[derive(Debug, Clone, Copy)]
struct Replica(usize);

impl Replica {
    /// The 0-based position, across copies, of the `i`-th of `per_copy` rows.
    fn position(self, i: usize, per_copy: usize) -> usize {
        self.0 * per_copy + i
    }

    /// The number (from 1, across copies) of the `i`-th of `per_copy` rows.
    fn number(self, i: usize, per_copy: usize) -> usize {
        self.position(i, per_copy) + 1
    }

    /// What tells this copy's fixed names and keys apart; nothing for the first copy.
    fn suffix(self, separator: &str) -> String {
        if self.0 == 0 {
            String::new()
        } else {
            format!("{separator}{}", self.0 + 1)
        }
    }
}

/// The ids one copy's rows received, for the rows and links that refer to them.
#[derive(Debug, Clone, Default)]
struct CopyIds {
    producers: Vec<i32>,
    startup_organisations: Vec<i32>,
    hosts: Vec<i32>,
    ocop_products: Vec<i32>,
    startups: Vec<i32>,
    ip_rights: Vec<i32>,
    science_tasks: Vec<i32>,
    application_models: Vec<i32>,
    technology_assessments: Vec<i32>,
}

/// Research institutes and university groups (per copy) that host S&T tasks and models.
const HOST_COUNT: usize = 30;
/// S&T tasks per copy.
const SCIENCE_TASKS: usize = 45;
/// Application models per copy.
const APPLICATION_MODELS: usize = 32;
/// Technology assessments per copy.
const TECHNOLOGY_ASSESSMENTS: usize = 12;

/// Writes the sample, part by part and copy by copy within each part. One generator,
/// seeded once, draws every random value in a fixed order, so every run writes the same
/// rows.
async fn write_sample<C: ConnectionTrait>(
    db: &C,
    size: SampleSize,
    copies: usize,
) -> Result<SampleOutcome, StoreError> {
    let mut sample = SampleWriter {
        db,
        rng: fastrand::Rng::with_seed(136_2022),
        now: stamp(),
        size,
    };
    let mut ids = vec![CopyIds::default(); copies];
    let mut outcome = SampleOutcome {
        organisations: sample.organisations(&mut ids).await?,
        ..SampleOutcome::default()
    };
    outcome.records += sample.ocop_products(&mut ids).await?;
    outcome.records += sample.startups(&mut ids).await?;
    sample.support_events(&ids).await?;
    outcome.records += sample.ip_rights(&mut ids).await?;
    outcome.records += sample.traceability_entries(&ids).await?;
    outcome.records += sample.science_tasks(&mut ids).await?;
    outcome.records += sample.application_models(&mut ids).await?;
    outcome.records += sample.technology_assessments(&mut ids).await?;
    outcome.records += sample.annual_reports(copies).await?;
    outcome.links = sample.links(&ids).await?;
    Ok(outcome)
}

/// What every part of the sample is written with: the connection, the one generator
/// and the fixed time every row carries.
struct SampleWriter<'a, C> {
    db: &'a C,
    rng: fastrand::Rng,
    now: DateTime<FixedOffset>,
    size: SampleSize,
}

impl<C: ConnectionTrait> SampleWriter<'_, C> {
    fn producer_count(&self) -> usize {
        self.size.ocop_products / 2 + 1
    }

    /// Producers, startups and hosts, each copy's in that order.
    async fn organisations(&mut self, ids: &mut [CopyIds]) -> Result<usize, StoreError> {
        let mut rows = Batch::new(1_000);
        for copy in (0..ids.len()).map(Replica) {
            self.organisations_of(copy, &mut rows).await?;
        }
        let written = rows.finish(self.db).await?;
        let all = ids_of_source::<_, organisations::Entity>(self.db).await?;
        let (producers, startups) = (self.producer_count(), self.size.startups);
        let blocks = per_copy(&all, ids.len());
        for (copy, block) in ids.iter_mut().zip(blocks) {
            copy.producers = block[..producers].to_vec();
            copy.startup_organisations = block[producers..producers + startups].to_vec();
            copy.hosts = block[producers + startups..].to_vec();
        }
        Ok(written)
    }

    async fn organisations_of(
        &self,
        copy: Replica,
        rows: &mut Batch<organisations::ActiveModel>,
    ) -> Result<(), StoreError> {
        let producer_count = self.producer_count();
        for i in 0..producer_count {
            let district = &DISTRICTS[i % DISTRICTS.len()];
            let number = copy.number(i, producer_count);
            let name = match i % 3 {
                0 => format!("HTX Nông nghiệp {} số {number}", district.short_name),
                1 => format!("Công ty TNHH {} {number}", PRODUCTS[i % PRODUCTS.len()].0),
                _ => format!("Cơ sở sản xuất {} {number}", district.short_name),
            };
            let row = organisation(&name, None, "producer", Some(district.name), self.now);
            rows.push(self.db, row).await?;
        }
        for i in 0..self.size.startups {
            let position = copy.position(i, self.size.startups);
            let name = format!(
                "Công ty Khởi nghiệp {} {}",
                SECTORS[i % SECTORS.len()],
                position + 1
            );
            // Even starts: a skipped number lands on an odd one no other startup uses.
            let tax_code =
                crate::domain::validate::next_valid_tax_code(140_100_000 + 2 * position as u64);
            let district = DISTRICTS[i % DISTRICTS.len()].name;
            let row = organisation(&name, Some(tax_code), "startup", Some(district), self.now);
            rows.push(self.db, row).await?;
        }
        for i in 0..HOST_COUNT {
            let number = copy.number(i, HOST_COUNT);
            let name = match i % 3 {
                0 => format!("Viện nghiên cứu ứng dụng {number}"),
                1 => format!("Trường Đại học Đồng Tháp — nhóm nghiên cứu {number}"),
                _ => format!("Trung tâm Ứng dụng tiến bộ KH&CN nhóm {number}"),
            };
            let row = organisation(&name, None, "institute", None, self.now);
            rows.push(self.db, row).await?;
        }
        Ok(())
    }

    async fn ocop_products(&mut self, ids: &mut [CopyIds]) -> Result<usize, StoreError> {
        let mut rows = Batch::new(1_000);
        for (copy, copy_ids) in ids.iter().enumerate() {
            for i in 0..self.size.ocop_products {
                let number = Replica(copy).number(i, self.size.ocop_products);
                let row = self.ocop_product(number, &copy_ids.producers);
                rows.push(self.db, row).await?;
            }
        }
        let written = rows.finish(self.db).await?;
        share_ids::<_, ocop_products::Entity>(self.db, ids, |copy| &mut copy.ocop_products).await?;
        Ok(written)
    }

    fn ocop_product(&mut self, number: usize, producers: &[i32]) -> ocop_products::ActiveModel {
        let rng = &mut self.rng;
        let district = &DISTRICTS[rng.usize(..DISTRICTS.len())];
        let (product, category) = PRODUCTS[rng.usize(..PRODUCTS.len())];
        let year = rng.i32(2019..=2025);
        let certified = date(year, rng.u32(1..=12), rng.u32(1..=28));
        let stars = match rng.u8(..10) {
            0..=5 => 3,
            6..=8 => 4,
            _ => 5,
        };
        let name = format!("{product} {} ({number})", district.short_name);
        ocop_products::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("OCOP-DT-{number:05}"))),
            created_at: Set(self.now),
            updated_at: Set(self.now),
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
        }
    }

    /// One startup per startup organisation.
    async fn startups(&mut self, ids: &mut [CopyIds]) -> Result<usize, StoreError> {
        let mut rows = Batch::new(1_000);
        for (copy, copy_ids) in ids.iter().enumerate() {
            for (i, org) in copy_ids.startup_organisations.iter().enumerate() {
                let position = Replica(copy).position(i, self.size.startups);
                let name = format!(
                    "Khởi nghiệp {} {}",
                    SECTORS[i % SECTORS.len()],
                    position + 1
                );
                let row = startups::ActiveModel {
                    source: Set(SOURCE.to_owned()),
                    external_id: Set(Some(format!("{}", 1_401_000_000u64 + position as u64))),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                    version: Set(1),
                    search_key: Set(search_key(&name)),
                    name: Set(name),
                    organisation_id: Set(Some(*org)),
                    sector: Set(Some(SECTORS[i % SECTORS.len()].to_owned())),
                    founded_year: Set(Some(self.rng.i32(2015..=2024))),
                    district: Set(Some(DISTRICTS[i % DISTRICTS.len()].name.to_owned())),
                    ..Default::default()
                };
                rows.push(self.db, row).await?;
            }
        }
        let written = rows.finish(self.db).await?;
        share_ids::<_, startups::Entity>(self.db, ids, |copy| &mut copy.startups).await?;
        Ok(written)
    }

    /// Most startups get no support; the supported ones get one to three events.
    async fn support_events(&mut self, ids: &[CopyIds]) -> Result<(), StoreError> {
        let mut rows = Batch::new(1_000);
        for id in ids.iter().flat_map(|copy| &copy.startups) {
            if self.rng.u8(..100) < 3 {
                for _ in 0..self.rng.usize(1..=3) {
                    let row = startup_support_events::ActiveModel {
                        startup_id: Set(*id),
                        year: Set(self.rng.i32(2020..=2025)),
                        kind: Set(SUPPORT_KINDS[self.rng.usize(..SUPPORT_KINDS.len())].to_owned()),
                        amount_vnd: Set(Some(i64::from(self.rng.u32(5..=200)) * 1_000_000)),
                        ..Default::default()
                    };
                    rows.push(self.db, row).await?;
                }
            }
        }
        rows.finish(self.db).await?;
        Ok(())
    }

    /// IP rights beyond the seven of the plan, two of them registered abroad.
    async fn ip_rights(&mut self, ids: &mut [CopyIds]) -> Result<usize, StoreError> {
        const ABROAD: usize = 2;
        const COLLECTIVE_MARKS: usize = 10;
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
        let mut rows = Batch::new(500);
        for copy in (0..ids.len()).map(Replica) {
            let external_id =
                |i: usize| format!("SAMPLE-IP-{}", copy.number(i, ABROAD + COLLECTIVE_MARKS));
            for (i, (name, kind, product, jurisdiction, status, registered)) in
                abroad.iter().enumerate()
            {
                let row = ip_right(
                    &external_id(i),
                    &format!("{name}{}", copy.suffix(" ")),
                    kind,
                    Some(product),
                    true,
                    jurisdiction,
                    *status,
                    *registered,
                    self.now,
                );
                rows.push(self.db, row).await?;
            }
            for i in 0..COLLECTIVE_MARKS {
                let (product, _) = PRODUCTS[i % PRODUCTS.len()];
                let name = format!("{product} Đồng Tháp {}", copy.number(i, COLLECTIVE_MARKS));
                let row = ip_right(
                    &external_id(ABROAD + i),
                    &name,
                    "COLLECTIVE_MARK",
                    Some(product),
                    true,
                    "VN",
                    Some("REGISTERED"),
                    date(2020 + (i as i32 % 6), 5, 1),
                    self.now,
                );
                rows.push(self.db, row).await?;
            }
        }
        let written = rows.finish(self.db).await?;
        share_ids::<_, ip_rights::Entity>(self.db, ids, |copy| &mut copy.ip_rights).await?;
        Ok(written)
    }

    /// Traceability entries, each tracing one of its copy's OCOP products or IP rights.
    async fn traceability_entries(&mut self, ids: &[CopyIds]) -> Result<usize, StoreError> {
        let first_event = vietnam()
            .with_ymd_and_hms(2022, 1, 1, 6, 0, 0)
            .single()
            .unwrap_or(self.now);
        let mut rows = Batch::new(500);
        for (copy, copy_ids) in ids.iter().enumerate() {
            for i in 0..self.size.traceability_entries {
                let position = Replica(copy).position(i, self.size.traceability_entries);
                let row = self.traceability_entry(position, first_event, copy_ids);
                rows.push(self.db, row).await?;
            }
        }
        rows.finish(self.db).await
    }

    /// The entry at `position`, at a random time in the four years from `first_event`.
    fn traceability_entry(
        &mut self,
        position: usize,
        first_event: DateTime<FixedOffset>,
        ids: &CopyIds,
    ) -> traceability_entries::ActiveModel {
        let (ocop_ids, ip_ids) = (&ids.ocop_products, &ids.ip_rights);
        let rng = &mut self.rng;
        let event_time = first_event + Duration::minutes(rng.i64(0..(4 * 365 * 24 * 60)));
        let gtin = gtin13(893_600_000_000 + rng.u64(0..2_000));
        let lot = format!("L{}{:04}", 22 + rng.u8(0..4), rng.u16(0..10_000));
        let traces_ocop = !ocop_ids.is_empty() && rng.bool();
        traceability_entries::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!("urn:uuid:sample-{position:08}"))),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
            search_key: Set(search_key(&format!("{gtin} {lot}"))),
            event_id: Set(format!("urn:uuid:sample-{position:08}")),
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
        }
    }

    async fn science_tasks(&mut self, ids: &mut [CopyIds]) -> Result<usize, StoreError> {
        let mut rows = Batch::new(500);
        for (copy, copy_ids) in ids.iter().enumerate() {
            for i in 0..SCIENCE_TASKS {
                let number = Replica(copy).number(i, SCIENCE_TASKS);
                let title = format!(
                    "Nghiên cứu ứng dụng công nghệ {} phục vụ tái cơ cấu nông nghiệp (mẫu {number})",
                    SECTORS[i % SECTORS.len()],
                );
                let start = date(2021 + (i as i32 % 5), 1 + (i as u32 % 12), 1);
                let row = science_tasks::ActiveModel {
                    source: Set(SOURCE.to_owned()),
                    external_id: Set(Some(format!("DT-KHCN-{number:03}"))),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                    version: Set(1),
                    search_key: Set(search_key(&title)),
                    code: Set(Some(format!("DT-KHCN-{number:03}"))),
                    title: Set(title),
                    level: Set(Some(
                        if i % 7 == 0 { "NATIONAL" } else { "PROVINCIAL" }.to_owned(),
                    )),
                    host_id: Set(Some(copy_ids.hosts[i % copy_ids.hosts.len()])),
                    budget_vnd: Set(Some(i64::from(self.rng.u32(300..=4_000)) * 1_000_000)),
                    start_on: Set(start),
                    end_on: Set(start.and_then(|d| d.checked_add_signed(Duration::days(730)))),
                    status: Set(Some(
                        ["APPROVED", "IN_PROGRESS", "ACCEPTED", "CANCELLED"][i % 4].to_owned(),
                    )),
                    ..Default::default()
                };
                rows.push(self.db, row).await?;
            }
        }
        let written = rows.finish(self.db).await?;
        share_ids::<_, science_tasks::Entity>(self.db, ids, |copy| &mut copy.science_tasks).await?;
        Ok(written)
    }

    async fn application_models(&mut self, ids: &mut [CopyIds]) -> Result<usize, StoreError> {
        let mut rows = Batch::new(500);
        for (copy, copy_ids) in ids.iter().enumerate() {
            for i in 0..APPLICATION_MODELS {
                let number = Replica(copy).number(i, APPLICATION_MODELS);
                let title = format!(
                    "Mô hình ứng dụng {} (mẫu {number})",
                    [
                        "sản xuất lúa thông minh",
                        "nuôi cá tra tuần hoàn",
                        "sấy xoài năng lượng mặt trời",
                        "truy xuất nguồn gốc sen"
                    ][i % 4],
                );
                let row = application_models::ActiveModel {
                    source: Set(SOURCE.to_owned()),
                    external_id: Set(Some(format!("MH-{number:03}"))),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                    version: Set(1),
                    search_key: Set(search_key(&title)),
                    title: Set(title),
                    field: Set(Some(
                        ["nông nghiệp", "thủy sản", "chế biến", "công nghệ thông tin"][i % 4]
                            .to_owned(),
                    )),
                    host_id: Set(Some(copy_ids.hosts[(i * 7) % copy_ids.hosts.len()])),
                    year_transferred: Set(Some(2021 + (i as i32 % 5))),
                    ..Default::default()
                };
                rows.push(self.db, row).await?;
            }
        }
        let written = rows.finish(self.db).await?;
        share_ids::<_, application_models::Entity>(self.db, ids, |copy| {
            &mut copy.application_models
        })
        .await?;
        Ok(written)
    }

    async fn technology_assessments(&mut self, ids: &mut [CopyIds]) -> Result<usize, StoreError> {
        let mut rows = Batch::new(500);
        for (copy, copy_ids) in ids.iter().enumerate() {
            for i in 0..TECHNOLOGY_ASSESSMENTS {
                let number = Replica(copy).number(i, TECHNOLOGY_ASSESSMENTS);
                let enterprise = format!("Công ty Chế biến thực phẩm mẫu {number}");
                let row = technology_assessments::ActiveModel {
                    source: Set(SOURCE.to_owned()),
                    external_id: Set(Some(format!("DG-CN-{number:03}"))),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                    version: Set(1),
                    search_key: Set(search_key(&enterprise)),
                    enterprise_id: Set(Some(copy_ids.producers[i % copy_ids.producers.len()])),
                    enterprise_name: Set(enterprise),
                    industry: Set(Some("công nghiệp chế biến".to_owned())),
                    year: Set(Some(2022 + (i as i32 % 2))),
                    level: Set(Some(
                        ["trung bình", "trung bình khá", "tiên tiến"][i % 3].to_owned(),
                    )),
                    ..Default::default()
                };
                rows.push(self.db, row).await?;
            }
        }
        let written = rows.finish(self.db).await?;
        share_ids::<_, technology_assessments::Entity>(self.db, ids, |copy| {
            &mut copy.technology_assessments
        })
        .await?;
        Ok(written)
    }

    /// Annual reports: most agencies report on time, some late, some not at all.
    async fn annual_reports(&mut self, copies: usize) -> Result<usize, StoreError> {
        let agency_rows = agencies::Entity::find().all(self.db).await?;
        let mut rows = Batch::new(500);
        for copy in (0..copies).map(Replica) {
            for (i, agency) in agency_rows.iter().enumerate() {
                for year in 2022..=2025 {
                    if let Some(row) = self.annual_report(copy, i, agency, year) {
                        rows.push(self.db, row).await?;
                    }
                }
            }
        }
        rows.finish(self.db).await
    }

    /// The report of the `i`-th agency for `year`, unless that agency skips the year.
    fn annual_report(
        &self,
        copy: Replica,
        i: usize,
        agency: &agencies::Model,
        year: i32,
    ) -> Option<annual_reports::ActiveModel> {
        let submitted = match (i + year as usize) % 6 {
            0 => None,
            1 => date(year, 12, 20),
            _ => date(year, 11 + (i as u32 % 2), 1 + (i as u32 % 14)),
        };
        submitted?;
        let summary = format!(
            "Báo cáo kết quả thực hiện Kế hoạch 136/KH-UBND năm {year} của {}",
            agency.name
        );
        Some(annual_reports::ActiveModel {
            source: Set(SOURCE.to_owned()),
            external_id: Set(Some(format!(
                "BC-{}-{year}{}",
                agency.code,
                copy.suffix("-")
            ))),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
            search_key: Set(search_key(&summary)),
            agency_id: Set(agency.id),
            year: Set(year),
            submitted_on: Set(submitted),
            summary: Set(Some(summary)),
            ..Default::default()
        })
    }

    /// Links from each copy's records to the plan tasks their kind serves.
    async fn links(&mut self, ids: &[CopyIds]) -> Result<usize, StoreError> {
        let tasks = LinkTasks::find(self.db).await?;
        let mut links = Batch::new(1_000);
        // Read one copy's traceability ids at a time: there may be millions.
        let mut traces_after = 0;
        for copy_ids in ids {
            let traces = ids_of_source_after::<_, traceability_entries::Entity>(
                self.db,
                traces_after,
                Some(self.size.traceability_entries),
            )
            .await?;
            traces_after = traces.last().copied().unwrap_or(traces_after);
            for (task, kind, id) in tasks.links_of(copy_ids, &traces) {
                links.push(self.db, self.link(task, kind, id)).await?;
            }
        }
        links.finish(self.db).await
    }

    fn link(&self, task: i32, kind: RecordKind, id: i32) -> record_links::ActiveModel {
        record_links::ActiveModel {
            task_id: Set(task),
            record_kind: Set(kind.as_str().to_owned()),
            record_id: Set(id),
            linked_by: Set(SOURCE.to_owned()),
            linked_at: Set(self.now),
            ..Default::default()
        }
    }
}

/// The plan tasks each kind of sample record serves.
struct LinkTasks {
    ocop: i32,
    startup: i32,
    science: [i32; 4],
    model: i32,
    assessment: i32,
    brand: i32,
    trace: i32,
    /// Every task of the plan, each of which gets a few OCOP links.
    all: Vec<i32>,
}

impl LinkTasks {
    async fn find<C: ConnectionTrait>(db: &C) -> Result<Self, StoreError> {
        let mut science = [0; 4];
        for (id, code) in science.iter_mut().zip(["II.1", "II.3", "III.1", "I.1"]) {
            *id = task_id(db, code).await?;
        }
        Ok(Self {
            ocop: task_id(db, "V.4").await?,
            startup: task_id(db, "V.2").await?,
            science,
            model: task_id(db, "II.2").await?,
            assessment: task_id(db, "III.3").await?,
            brand: task_id(db, "IV.3").await?,
            trace: task_id(db, "IV.2").await?,
            all: tasks::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|t| t.id)
                .collect(),
        })
    }

    /// One copy's links, as (task, kind, record id): every record to its kind's task,
    /// every twentieth traceability entry, and twelve OCOP products to every other task,
    /// so cross-domain questions have answers everywhere.
    fn links_of<'a>(
        &'a self,
        ids: &'a CopyIds,
        traces: &'a [i32],
    ) -> impl Iterator<Item = (i32, RecordKind, i32)> + 'a {
        let to = |task: i32, kind: RecordKind, records: &'a [i32]| {
            records.iter().map(move |id| (task, kind, *id))
        };
        let science = ids.science_tasks.iter().enumerate().map(|(i, id)| {
            let task = self.science[i % self.science.len()];
            (task, science_task::SPEC.kind, *id)
        });
        let ocop = &ids.ocop_products;
        let spread = self
            .all
            .iter()
            .enumerate()
            .filter(|(_, task)| **task != self.ocop && !ocop.is_empty())
            .flat_map(move |(i, task)| {
                (0..12).map(move |j| {
                    let id = ocop[(i * 37 + j * 11) % ocop.len()];
                    (*task, ocop_product::SPEC.kind, id)
                })
            });
        to(self.ocop, ocop_product::SPEC.kind, ocop)
            .chain(to(self.startup, startup::SPEC.kind, &ids.startups))
            .chain(science)
            .chain(to(
                self.model,
                application_model::SPEC.kind,
                &ids.application_models,
            ))
            .chain(to(
                self.assessment,
                technology_assessment::SPEC.kind,
                &ids.technology_assessments,
            ))
            .chain(to(self.brand, ip_right::SPEC.kind, &ids.ip_rights))
            .chain(
                traces
                    .iter()
                    .step_by(20)
                    .map(|id| (self.trace, traceability_entry::SPEC.kind, *id)),
            )
            .chain(spread)
    }
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
    fn a_sample_size_is_three_whole_numbers() {
        assert_eq!(
            "300, 100,2000".parse::<SampleSize>(),
            Ok(SampleSize {
                ocop_products: 300,
                startups: 100,
                traceability_entries: 2_000,
            })
        );
        for text in ["300,100", "300,100,2000,1", "300,x,2000", ""] {
            assert!(text.parse::<SampleSize>().is_err(), "{text}");
        }
    }

    #[test]
    fn copies_number_on_from_the_copy_before() {
        assert_eq!(Replica(0).number(0, 3_000), 1);
        assert_eq!(Replica(1).number(0, 3_000), 3_001);
        assert_eq!(Replica(0).suffix("-"), "");
        assert_eq!(Replica(2).suffix("-"), "-3");
    }

    #[test]
    fn sample_gtins_carry_valid_check_digits() {
        // 629104150021 → check digit 3 (GS1's worked example).
        assert_eq!(gtin13(629_104_150_021), "6291041500213");
    }
}
