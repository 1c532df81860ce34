//! Loading a plan transcription into the database, once.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};

use super::StoreError;
use chrono::NaiveDate;

use crate::db::entities::{
    administrative_units, agencies, agency_aliases, agency_group_aliases, agency_groups, ip_rights,
    legal_documents, plan_clauses, plan_documents, plans, record_links, sections, targets,
    task_coordinators, task_documents, tasks,
};
use crate::domain::bodies_source::BodiesSource;
use crate::domain::ip_source::{IpRightSource, IpRightsSource};
use crate::domain::places::{DISTRICTS, PROVINCE_NAME, district_match_key};
use crate::domain::plan::{SectionNumeral, child_task_code, parse_timeline, task_code};
use crate::domain::plan_source::{PlanSource, TaskSource};
use crate::domain::records::RecordKind;
use crate::domain::text::search_key;

/// What loading a plan did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedOutcome {
    Loaded { code: String, tasks: usize },
    AlreadyLoaded { code: String },
}

/// What loading the reference records (places, the IP rights the plan names) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReferenceOutcome {
    pub places: usize,
    /// Agencies whose reporting-body facts were added or changed.
    pub bodies: usize,
    pub ip_rights: usize,
    pub links: usize,
}

/// Loads `source` in one transaction. A plan already present (by code) is left as it
/// is, so loading twice changes nothing.
pub async fn load_plan(
    db: &DatabaseConnection,
    source: &PlanSource,
) -> Result<SeedOutcome, StoreError> {
    let txn = db.begin().await?;
    let outcome = load_plan_in(&txn, source).await?;
    if matches!(outcome, SeedOutcome::Loaded { .. }) {
        super::changes::append(&txn, &[], Some(&super::changes::PlanChange::seeded())).await?;
    }
    txn.commit().await?;
    Ok(outcome)
}

async fn load_plan_in<C: ConnectionTrait>(
    txn: &C,
    source: &PlanSource,
) -> Result<SeedOutcome, StoreError> {
    let existing = plans::Entity::find()
        .filter(plans::Column::Code.eq(&source.plan.code))
        .one(txn)
        .await?;
    if existing.is_some() {
        return Ok(SeedOutcome::AlreadyLoaded {
            code: source.plan.code.clone(),
        });
    }
    let refs = insert_parties(txn, source).await?;
    let plan_id = insert_plan(txn, source, &refs).await?;
    let tasks = insert_sections(txn, source, plan_id, &refs).await?;
    Ok(SeedOutcome::Loaded {
        code: source.plan.code.clone(),
        tasks,
    })
}

/// Database ids of the agencies, groups and documents named in the file.
struct Refs {
    agencies: HashMap<String, i32>,
    groups: HashMap<String, i32>,
    documents: HashMap<String, i32>,
}

impl Refs {
    fn agency(&self, code: &Option<String>) -> Result<Option<i32>, StoreError> {
        code.as_ref()
            .map(|code| {
                self.agencies
                    .get(code)
                    .copied()
                    .ok_or_else(|| StoreError::Invalid(format!("unknown agency {code:?}")))
            })
            .transpose()
    }

    fn document(&self, number: &str) -> Result<i32, StoreError> {
        self.documents
            .get(number)
            .copied()
            .ok_or_else(|| StoreError::Invalid(format!("unknown document {number:?}")))
    }
}

/// Agencies, groups and documents are shared between plans: existing ones (by code or
/// number) are reused, new ones inserted.
async fn insert_parties<C: ConnectionTrait>(
    txn: &C,
    source: &PlanSource,
) -> Result<Refs, StoreError> {
    let mut refs = Refs {
        agencies: HashMap::new(),
        groups: HashMap::new(),
        documents: HashMap::new(),
    };
    for agency in &source.agencies {
        let found = agencies::Entity::find()
            .filter(agencies::Column::Code.eq(&agency.code))
            .one(txn)
            .await?;
        let id = match found {
            Some(found) => found.id,
            None => {
                let inserted = agencies::ActiveModel {
                    code: Set(agency.code.clone()),
                    name: Set(agency.name.clone()),
                    name_en: Set(agency.name_en.clone()),
                    search_key: Set(search_key(&agency.name)),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                for alias in &agency.aliases {
                    agency_aliases::ActiveModel {
                        agency_id: Set(inserted.id),
                        alias: Set(alias.clone()),
                        search_key: Set(search_key(alias)),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                }
                inserted.id
            }
        };
        refs.agencies.insert(agency.code.clone(), id);
    }
    for group in &source.groups {
        let found = agency_groups::Entity::find()
            .filter(agency_groups::Column::Code.eq(&group.code))
            .one(txn)
            .await?;
        let id = match found {
            Some(found) => found.id,
            None => {
                let inserted = agency_groups::ActiveModel {
                    code: Set(group.code.clone()),
                    name: Set(group.name.clone()),
                    name_en: Set(group.name_en.clone()),
                    kind: Set(group.kind.clone()),
                    search_key: Set(search_key(&group.name)),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                for alias in &group.aliases {
                    agency_group_aliases::ActiveModel {
                        group_id: Set(inserted.id),
                        alias: Set(alias.clone()),
                        search_key: Set(search_key(alias)),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                }
                inserted.id
            }
        };
        refs.groups.insert(group.code.clone(), id);
    }
    for document in &source.documents {
        let found = legal_documents::Entity::find()
            .filter(legal_documents::Column::Number.eq(&document.number))
            .one(txn)
            .await?;
        let id = match found {
            Some(found) => found.id,
            None => {
                legal_documents::ActiveModel {
                    number: Set(document.number.clone()),
                    kind: Set(document.kind.clone()),
                    issued_on: Set(document.issued_on),
                    issuer: Set(document.issuer.clone()),
                    issuer_agency_id: Set(refs.agency(&document.issuer_agency)?),
                    title: Set(document.title.clone()),
                    ..Default::default()
                }
                .insert(txn)
                .await?
                .id
            }
        };
        refs.documents.insert(document.number.clone(), id);
    }
    Ok(refs)
}

async fn insert_plan<C: ConnectionTrait>(
    txn: &C,
    source: &PlanSource,
    refs: &Refs,
) -> Result<i32, StoreError> {
    let header = &source.plan;
    let reporting = header.reporting.as_ref();
    let basis = header
        .basis
        .as_deref()
        .map(|number| refs.document(number))
        .transpose()?;
    let plan = plans::ActiveModel {
        code: Set(header.code.clone()),
        kind: Set(header.kind.clone()),
        title: Set(header.title.clone()),
        heading: Set(header.heading.clone()),
        issued_on: Set(header.issued_on),
        issuer: Set(header.issuer.clone()),
        issuer_agency_id: Set(refs.agency(&header.issuer_agency)?),
        signer: Set(header.signer.clone()),
        signer_title: Set(header.signer_title.clone()),
        signature_block: Set(header.signature_block.clone()),
        basis_document_id: Set(basis),
        preamble: Set(header.preamble.clone()),
        reporting_month: Set(reporting.and_then(|r| i16::try_from(r.month).ok())),
        reporting_day: Set(reporting.and_then(|r| i16::try_from(r.day).ok())),
        reporting_text: Set(reporting.map(|r| r.text.clone())),
        reporting_via_agency_id: Set(refs.agency(&reporting.and_then(|r| r.via_agency.clone()))?),
        reporting_to_agency_id: Set(refs.agency(&reporting.and_then(|r| r.to_agency.clone()))?),
        loaded_at: Set(Utc::now().fixed_offset()),
        ..Default::default()
    }
    .insert(txn)
    .await?;

    let clauses = [
        ("purpose", &header.purposes),
        ("funding_source", &header.funding_sources),
        ("implementation", &header.implementation),
        ("recipient", &header.recipients),
    ];
    for (kind, texts) in clauses {
        for (position, text) in (1..).zip(texts) {
            plan_clauses::ActiveModel {
                plan_id: Set(plan.id),
                kind: Set(kind.to_owned()),
                position: Set(position),
                text: Set(text.clone()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }

    // Referenced documents in order of first mention: the basis, then the tasks'.
    let mut referenced: Vec<&str> = header.basis.iter().map(String::as_str).collect();
    for section in &source.sections {
        for task in &section.tasks {
            for number in task
                .documents
                .iter()
                .chain(task.children.iter().flat_map(|c| &c.documents))
            {
                if !referenced.contains(&number.as_str()) {
                    referenced.push(number);
                }
            }
        }
    }
    for (position, number) in (1..).zip(referenced) {
        plan_documents::ActiveModel {
            plan_id: Set(plan.id),
            document_id: Set(refs.document(number)?),
            position: Set(position),
        }
        .insert(txn)
        .await?;
    }

    for target in &source.targets {
        targets::ActiveModel {
            plan_id: Set(plan.id),
            key: Set(target.key.clone()),
            position: Set(target.position),
            kind: Set(target.kind.clone()),
            target_value: Set(target.value),
            unit: Set(target.unit.clone()),
            unit_en: Set(target.unit_en.clone()),
            due_year: Set(target.due_year),
            text: Set(target.text.clone()),
            description_en: Set(target.description_en.clone()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(plan.id)
}

async fn insert_sections<C: ConnectionTrait>(
    txn: &C,
    source: &PlanSource,
    plan_id: i32,
    refs: &Refs,
) -> Result<usize, StoreError> {
    let mut count = 0;
    for (position, section) in (1..).zip(&source.sections) {
        let numeral = SectionNumeral::parse(&section.numeral)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let section_id = sections::ActiveModel {
            plan_id: Set(plan_id),
            numeral: Set(section.numeral.clone()),
            position: Set(position),
            title: Set(section.title.clone()),
            ..Default::default()
        }
        .insert(txn)
        .await?
        .id;
        for (task_position, task) in (1..).zip(&section.tasks) {
            let code = task_code(&numeral, &task.number)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            let parent = NewTask {
                plan_id,
                section_id,
                parent_id: None,
                code: &code,
                position: task_position,
            };
            let task_id = insert_task(txn, &parent, task, refs).await?;
            count += 1;
            for (child_position, child) in (1..).zip(&task.children) {
                let child_code = child_task_code(&code, &child.number)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                let new_child = NewTask {
                    plan_id,
                    section_id,
                    parent_id: Some(task_id),
                    code: &child_code,
                    position: child_position,
                };
                insert_task(txn, &new_child, child, refs).await?;
            }
        }
    }
    Ok(count)
}

struct NewTask<'a> {
    plan_id: i32,
    section_id: i32,
    parent_id: Option<i32>,
    code: &'a str,
    position: i32,
}

async fn insert_task<C: ConnectionTrait>(
    txn: &C,
    new: &NewTask<'_>,
    task: &TaskSource,
    refs: &Refs,
) -> Result<i32, StoreError> {
    let timeline = task.timeline.as_deref().and_then(parse_timeline);
    let inserted = tasks::ActiveModel {
        plan_id: Set(new.plan_id),
        section_id: Set(new.section_id),
        parent_id: Set(new.parent_id),
        code: Set(new.code.to_owned()),
        number: Set(task.number.clone()),
        position: Set(new.position),
        text: Set(task.text.clone()),
        lead_agency_id: Set(refs.agency(&task.lead)?),
        lead_text: Set(task.lead_text.clone()),
        coordinators_text: Set(task.coordinators_text.clone()),
        deliverable: Set(task.deliverable.clone()),
        timeline_text: Set(task.timeline.clone()),
        timeline_recurring: Set(timeline.as_ref().map(|t| t.recurring)),
        timeline_start_year: Set(timeline.as_ref().and_then(|t| t.start_year)),
        timeline_end_year: Set(timeline.as_ref().and_then(|t| t.end_year)),
        search_key: Set(search_key(&format!("{} {}", new.code, task.text))),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for (position, coordinator) in (1..).zip(&task.coordinators) {
        let group_id = coordinator
            .group
            .as_ref()
            .map(|code| {
                refs.groups
                    .get(code)
                    .copied()
                    .ok_or_else(|| StoreError::Invalid(format!("unknown group {code:?}")))
            })
            .transpose()?;
        task_coordinators::ActiveModel {
            task_id: Set(inserted.id),
            position: Set(position),
            text: Set(coordinator.text.clone()),
            note: Set(coordinator.note.clone()),
            agency_id: Set(refs.agency(&coordinator.agency)?),
            group_id: Set(group_id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    for number in &task.documents {
        task_documents::ActiveModel {
            task_id: Set(inserted.id),
            document_id: Set(refs.document(number)?),
        }
        .insert(txn)
        .await?;
    }
    Ok(inserted.id)
}

impl std::fmt::Display for SeedOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedOutcome::Loaded { code, tasks } => {
                write!(f, "loaded plan {code} ({tasks} top-level tasks)")
            }
            SeedOutcome::AlreadyLoaded { code } => {
                write!(f, "plan {code} is already loaded; nothing changed")
            }
        }
    }
}

/// Loads the administrative units, the reporting bodies and the IP rights the plan names,
/// with their links to tasks, adding only what is missing or changed: loading twice
/// changes nothing.
pub async fn load_reference_records(
    db: &DatabaseConnection,
    ip_rights_source: &IpRightsSource,
    bodies_source: &BodiesSource,
) -> Result<ReferenceOutcome, StoreError> {
    let txn = db.begin().await?;
    let mut outcome = ReferenceOutcome {
        places: insert_missing_places(&txn).await?,
        bodies: super::bodies::sync_bodies(&txn, bodies_source).await?,
        ..ReferenceOutcome::default()
    };
    let now = Utc::now().fixed_offset();
    for right in &ip_rights_source.ip_rights {
        let (id, inserted) = find_or_insert_ip_right(&txn, right, now).await?;
        outcome.ip_rights += usize::from(inserted);
        outcome.links += link_ip_right(&txn, id, &right.tasks, now).await?;
    }
    if outcome != ReferenceOutcome::default() {
        super::changes::append(&txn, &[], Some(&super::changes::PlanChange::seeded())).await?;
    }
    txn.commit().await?;
    Ok(outcome)
}

/// The province and its districts, those not yet there; returns how many were added.
async fn insert_missing_places<C: ConnectionTrait>(txn: &C) -> Result<usize, StoreError> {
    let mut added = 0;
    let province = match administrative_units::Entity::find()
        .filter(administrative_units::Column::Code.eq(PROVINCE_CODE))
        .one(txn)
        .await?
    {
        Some(unit) => unit.id,
        None => {
            added += 1;
            administrative_units::ActiveModel {
                code: Set(PROVINCE_CODE.to_owned()),
                name: Set(PROVINCE_NAME.to_owned()),
                short_name: Set("Đồng Tháp".to_owned()),
                level: Set("province".to_owned()),
                search_key: Set(search_key("Đồng Tháp")),
                ..Default::default()
            }
            .insert(txn)
            .await?
            .id
        }
    };
    let last_day = NaiveDate::from_ymd_opt(2025, 6, 30);
    for district in DISTRICTS {
        let exists = administrative_units::Entity::find()
            .filter(administrative_units::Column::Code.eq(district.code))
            .one(txn)
            .await?
            .is_some();
        if !exists {
            added += 1;
            administrative_units::ActiveModel {
                code: Set(district.code.to_owned()),
                name: Set(district.name.to_owned()),
                short_name: Set(district.short_name.to_owned()),
                level: Set("district".to_owned()),
                parent_id: Set(Some(province)),
                valid_to: Set(last_day),
                search_key: Set(district_match_key(district.name)),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(added)
}

/// The id of a seeded IP right, inserting it if it is missing (then `true`).
async fn find_or_insert_ip_right<C: ConnectionTrait>(
    txn: &C,
    right: &IpRightSource,
    now: DateTime<FixedOffset>,
) -> Result<(i32, bool), StoreError> {
    let existing = ip_rights::Entity::find()
        .filter(ip_rights::Column::Source.eq("seed"))
        .filter(ip_rights::Column::ExternalId.eq(&right.external_id))
        .one(txn)
        .await?;
    if let Some(found) = existing {
        return Ok((found.id, false));
    }
    let agency = match &right.managing_agency {
        Some(code) => Some(
            agencies::Entity::find()
                .filter(agencies::Column::Code.eq(code))
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::Invalid(format!("unknown agency {code:?}")))?
                .id,
        ),
        None => None,
    };
    let inserted = ip_rights::ActiveModel {
        source: Set("seed".to_owned()),
        external_id: Set(Some(right.external_id.clone())),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        search_key: Set(ip_right_search_key(&right.name, right.product.as_deref())),
        name: Set(right.name.clone()),
        right_kind: Set(right.kind.clone()),
        product: Set(right.product.clone()),
        farm_product: Set(right.farm_product),
        jurisdiction: Set(right.jurisdiction.clone()),
        status: Set(right.status.clone()),
        managing_agency_id: Set(agency),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok((inserted.id, true))
}

/// Links an IP right to the tasks (by code) not yet linked; returns how many links
/// were added.
async fn link_ip_right<C: ConnectionTrait>(
    txn: &C,
    id: i32,
    task_codes: &[String],
    now: DateTime<FixedOffset>,
) -> Result<usize, StoreError> {
    let mut added = 0;
    for code in task_codes {
        let task = tasks::Entity::find()
            .filter(tasks::Column::Code.eq(code))
            .one(txn)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("unknown task {code:?}")))?;
        let linked = record_links::Entity::find()
            .filter(record_links::Column::TaskId.eq(task.id))
            .filter(record_links::Column::RecordKind.eq(RecordKind::IpRight.as_str()))
            .filter(record_links::Column::RecordId.eq(id))
            .one(txn)
            .await?
            .is_some();
        if !linked {
            added += 1;
            record_links::ActiveModel {
                task_id: Set(task.id),
                record_kind: Set(RecordKind::IpRight.as_str().to_owned()),
                record_id: Set(id),
                linked_by: Set("seed".to_owned()),
                linked_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(added)
}

/// The code of the province unit.
pub const PROVINCE_CODE: &str = "dong-thap";

/// IP rights are found by their name and their product ("xoài cao lãnh").
pub fn ip_right_search_key(name: &str, product: Option<&str>) -> String {
    search_key(&format!("{name} {}", product.unwrap_or_default()))
}
