//! The plan itself: agencies and groups, legal documents, plans, their clauses,
//! targets, sections, tasks, coordinators and document links.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
    Code,
    Name,
    NameEn,
    SearchKey,
}

#[derive(DeriveIden)]
enum AgencyAliases {
    Table,
    Id,
    AgencyId,
    Alias,
    SearchKey,
}

#[derive(DeriveIden)]
enum AgencyGroups {
    Table,
    Id,
    Code,
    Name,
    NameEn,
    Kind,
    SearchKey,
}

#[derive(DeriveIden)]
enum AgencyGroupAliases {
    Table,
    Id,
    GroupId,
    Alias,
    SearchKey,
}

#[derive(DeriveIden)]
enum LegalDocuments {
    Table,
    Id,
    Number,
    Kind,
    IssuedOn,
    Issuer,
    IssuerAgencyId,
    Title,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    Code,
    Kind,
    Title,
    Heading,
    IssuedOn,
    Issuer,
    IssuerAgencyId,
    Signer,
    SignerTitle,
    SignatureBlock,
    BasisDocumentId,
    Preamble,
    ReportingMonth,
    ReportingDay,
    ReportingText,
    ReportingViaAgencyId,
    ReportingToAgencyId,
    LoadedAt,
}

#[derive(DeriveIden)]
enum PlanClauses {
    Table,
    Id,
    PlanId,
    Kind,
    Position,
    Text,
}

#[derive(DeriveIden)]
enum PlanDocuments {
    Table,
    PlanId,
    DocumentId,
    Position,
}

#[derive(DeriveIden)]
enum Targets {
    Table,
    Id,
    PlanId,
    Key,
    Position,
    Kind,
    TargetValue,
    Unit,
    UnitEn,
    DueYear,
    Text,
    DescriptionEn,
}

#[derive(DeriveIden)]
enum Sections {
    Table,
    Id,
    PlanId,
    Numeral,
    Position,
    Title,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    PlanId,
    SectionId,
    ParentId,
    Code,
    Number,
    Position,
    Text,
    LeadAgencyId,
    LeadText,
    CoordinatorsText,
    Deliverable,
    TimelineText,
    TimelineRecurring,
    TimelineStartYear,
    TimelineEndYear,
    SearchKey,
}

#[derive(DeriveIden)]
enum TaskCoordinators {
    Table,
    Id,
    TaskId,
    Position,
    Text,
    Note,
    AgencyId,
    GroupId,
}

#[derive(DeriveIden)]
enum TaskDocuments {
    Table,
    TaskId,
    DocumentId,
}

fn foreign_key(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(
    name: &str,
    table: impl IntoIden,
    columns: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(Alias::new(*column));
    }
    if unique {
        statement.unique();
    }
    statement.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        manager
            .create_table(
                Table::create()
                    .table(Agencies::Table)
                    .col(pk_auto(Agencies::Id))
                    .col(string_uniq(Agencies::Code))
                    .col(text(Agencies::Name))
                    .col(text_null(Agencies::NameEn))
                    .col(text(Agencies::SearchKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgencyAliases::Table)
                    .col(pk_auto(AgencyAliases::Id))
                    .col(integer(AgencyAliases::AgencyId))
                    .col(text(AgencyAliases::Alias))
                    .col(text(AgencyAliases::SearchKey))
                    .foreign_key(&mut foreign_key(
                        "fk_agency_aliases_agency",
                        (AgencyAliases::Table, AgencyAliases::AgencyId),
                        (Agencies::Table, Agencies::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_agency_aliases_agency_alias",
                AgencyAliases::Table,
                &["agency_id", "alias"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgencyGroups::Table)
                    .col(pk_auto(AgencyGroups::Id))
                    .col(string_uniq(AgencyGroups::Code))
                    .col(text(AgencyGroups::Name))
                    .col(text_null(AgencyGroups::NameEn))
                    .col(string(AgencyGroups::Kind))
                    .col(text(AgencyGroups::SearchKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgencyGroupAliases::Table)
                    .col(pk_auto(AgencyGroupAliases::Id))
                    .col(integer(AgencyGroupAliases::GroupId))
                    .col(text(AgencyGroupAliases::Alias))
                    .col(text(AgencyGroupAliases::SearchKey))
                    .foreign_key(&mut foreign_key(
                        "fk_agency_group_aliases_group",
                        (AgencyGroupAliases::Table, AgencyGroupAliases::GroupId),
                        (AgencyGroups::Table, AgencyGroups::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_agency_group_aliases_group_alias",
                AgencyGroupAliases::Table,
                &["group_id", "alias"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LegalDocuments::Table)
                    .col(pk_auto(LegalDocuments::Id))
                    .col(string_uniq(LegalDocuments::Number))
                    .col(text(LegalDocuments::Kind))
                    .col(date_null(LegalDocuments::IssuedOn))
                    .col(text_null(LegalDocuments::Issuer))
                    .col(integer_null(LegalDocuments::IssuerAgencyId))
                    .col(text_null(LegalDocuments::Title))
                    .foreign_key(&mut foreign_key(
                        "fk_legal_documents_issuer_agency",
                        (LegalDocuments::Table, LegalDocuments::IssuerAgencyId),
                        (Agencies::Table, Agencies::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(pk_auto(Plans::Id))
                    .col(string_uniq(Plans::Code))
                    .col(text(Plans::Kind))
                    .col(text(Plans::Title))
                    .col(text_null(Plans::Heading))
                    .col(date(Plans::IssuedOn))
                    .col(text(Plans::Issuer))
                    .col(integer_null(Plans::IssuerAgencyId))
                    .col(text_null(Plans::Signer))
                    .col(text_null(Plans::SignerTitle))
                    .col(text_null(Plans::SignatureBlock))
                    .col(integer_null(Plans::BasisDocumentId))
                    .col(text_null(Plans::Preamble))
                    .col(small_integer_null(Plans::ReportingMonth))
                    .col(small_integer_null(Plans::ReportingDay))
                    .col(text_null(Plans::ReportingText))
                    .col(integer_null(Plans::ReportingViaAgencyId))
                    .col(integer_null(Plans::ReportingToAgencyId))
                    .col(timestamp_with_time_zone(Plans::LoadedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_plans_issuer_agency",
                        (Plans::Table, Plans::IssuerAgencyId),
                        (Agencies::Table, Agencies::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_plans_basis_document",
                        (Plans::Table, Plans::BasisDocumentId),
                        (LegalDocuments::Table, LegalDocuments::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_plans_reporting_via_agency",
                        (Plans::Table, Plans::ReportingViaAgencyId),
                        (Agencies::Table, Agencies::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_plans_reporting_to_agency",
                        (Plans::Table, Plans::ReportingToAgencyId),
                        (Agencies::Table, Agencies::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanClauses::Table)
                    .col(pk_auto(PlanClauses::Id))
                    .col(integer(PlanClauses::PlanId))
                    .col(string(PlanClauses::Kind))
                    .col(integer(PlanClauses::Position))
                    .col(text(PlanClauses::Text))
                    .foreign_key(&mut foreign_key(
                        "fk_plan_clauses_plan",
                        (PlanClauses::Table, PlanClauses::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_plan_clauses_plan_kind_position",
                PlanClauses::Table,
                &["plan_id", "kind", "position"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanDocuments::Table)
                    .col(integer(PlanDocuments::PlanId))
                    .col(integer(PlanDocuments::DocumentId))
                    .col(integer(PlanDocuments::Position))
                    .primary_key(
                        Index::create()
                            .col(PlanDocuments::PlanId)
                            .col(PlanDocuments::DocumentId),
                    )
                    .foreign_key(&mut foreign_key(
                        "fk_plan_documents_plan",
                        (PlanDocuments::Table, PlanDocuments::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_plan_documents_document",
                        (PlanDocuments::Table, PlanDocuments::DocumentId),
                        (LegalDocuments::Table, LegalDocuments::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Targets::Table)
                    .col(pk_auto(Targets::Id))
                    .col(integer(Targets::PlanId))
                    .col(string(Targets::Key))
                    .col(integer(Targets::Position))
                    .col(string(Targets::Kind))
                    .col(integer_null(Targets::TargetValue))
                    .col(text_null(Targets::Unit))
                    .col(text_null(Targets::UnitEn))
                    .col(integer(Targets::DueYear))
                    .col(text(Targets::Text))
                    .col(text_null(Targets::DescriptionEn))
                    .foreign_key(&mut foreign_key(
                        "fk_targets_plan",
                        (Targets::Table, Targets::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_targets_plan_key",
                Targets::Table,
                &["plan_id", "key"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sections::Table)
                    .col(pk_auto(Sections::Id))
                    .col(integer(Sections::PlanId))
                    .col(string(Sections::Numeral))
                    .col(integer(Sections::Position))
                    .col(text(Sections::Title))
                    .foreign_key(&mut foreign_key(
                        "fk_sections_plan",
                        (Sections::Table, Sections::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_sections_plan_numeral",
                Sections::Table,
                &["plan_id", "numeral"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(pk_auto(Tasks::Id))
                    .col(integer(Tasks::PlanId))
                    .col(integer(Tasks::SectionId))
                    .col(integer_null(Tasks::ParentId))
                    .col(string(Tasks::Code))
                    .col(string(Tasks::Number))
                    .col(integer(Tasks::Position))
                    .col(text(Tasks::Text))
                    .col(integer_null(Tasks::LeadAgencyId))
                    .col(text_null(Tasks::LeadText))
                    .col(text_null(Tasks::CoordinatorsText))
                    .col(text_null(Tasks::Deliverable))
                    .col(text_null(Tasks::TimelineText))
                    .col(boolean_null(Tasks::TimelineRecurring))
                    .col(integer_null(Tasks::TimelineStartYear))
                    .col(integer_null(Tasks::TimelineEndYear))
                    .col(text(Tasks::SearchKey))
                    .foreign_key(&mut foreign_key(
                        "fk_tasks_plan",
                        (Tasks::Table, Tasks::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_tasks_section",
                        (Tasks::Table, Tasks::SectionId),
                        (Sections::Table, Sections::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_tasks_parent",
                        (Tasks::Table, Tasks::ParentId),
                        (Tasks::Table, Tasks::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_tasks_lead_agency",
                        (Tasks::Table, Tasks::LeadAgencyId),
                        (Agencies::Table, Agencies::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_tasks_plan_code",
                Tasks::Table,
                &["plan_id", "code"],
                true,
            ))
            .await?;
        manager
            .create_index(index("ix_tasks_code", Tasks::Table, &["code"], false))
            .await?;
        manager
            .create_index(index(
                "ix_tasks_section_position",
                Tasks::Table,
                &["section_id", "position"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_tasks_parent",
                Tasks::Table,
                &["parent_id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_tasks_lead_agency",
                Tasks::Table,
                &["lead_agency_id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaskCoordinators::Table)
                    .col(pk_auto(TaskCoordinators::Id))
                    .col(integer(TaskCoordinators::TaskId))
                    .col(integer(TaskCoordinators::Position))
                    .col(text(TaskCoordinators::Text))
                    .col(text_null(TaskCoordinators::Note))
                    .col(integer_null(TaskCoordinators::AgencyId))
                    .col(integer_null(TaskCoordinators::GroupId))
                    .check(
                        Expr::col(TaskCoordinators::AgencyId)
                            .is_null()
                            .ne(Expr::col(TaskCoordinators::GroupId).is_null()),
                    )
                    .foreign_key(&mut foreign_key(
                        "fk_task_coordinators_task",
                        (TaskCoordinators::Table, TaskCoordinators::TaskId),
                        (Tasks::Table, Tasks::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_task_coordinators_agency",
                        (TaskCoordinators::Table, TaskCoordinators::AgencyId),
                        (Agencies::Table, Agencies::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_task_coordinators_group",
                        (TaskCoordinators::Table, TaskCoordinators::GroupId),
                        (AgencyGroups::Table, AgencyGroups::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_task_coordinators_task_position",
                TaskCoordinators::Table,
                &["task_id", "position"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_task_coordinators_agency",
                TaskCoordinators::Table,
                &["agency_id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_task_coordinators_group",
                TaskCoordinators::Table,
                &["group_id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaskDocuments::Table)
                    .col(integer(TaskDocuments::TaskId))
                    .col(integer(TaskDocuments::DocumentId))
                    .primary_key(
                        Index::create()
                            .col(TaskDocuments::TaskId)
                            .col(TaskDocuments::DocumentId),
                    )
                    .foreign_key(&mut foreign_key(
                        "fk_task_documents_task",
                        (TaskDocuments::Table, TaskDocuments::TaskId),
                        (Tasks::Table, Tasks::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_task_documents_document",
                        (TaskDocuments::Table, TaskDocuments::DocumentId),
                        (LegalDocuments::Table, LegalDocuments::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_task_documents_document",
                TaskDocuments::Table,
                &["document_id"],
                false,
            ))
            .await?;
        Ok(())
    }
}
