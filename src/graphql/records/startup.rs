//! Innovative startups (doanh nghiệp khởi nghiệp đổi mới sáng tạo) and their support.

use async_graphql::{Context, Enum, SimpleObject};

use super::{Organisation, load_organisation, record_loader, record_object, record_queries};
use crate::db::entities::startups;
use crate::domain::records::RecordKind;
use crate::graphql::error::ApiResult;
use crate::graphql::list::{IntFilter, SortField, StringFilter, filter_input};
use crate::graphql::loaders::StartupSupport;
use crate::graphql::scalars::BigInt;
use crate::store::records::SortKey;

/// Support a startup received.
#[derive(SimpleObject, Clone)]
pub struct SupportEvent {
    pub year: i32,
    /// What kind of support (hình thức hỗ trợ).
    pub kind: String,
    /// Amount in VND (kinh phí hỗ trợ), where known.
    pub amount_vnd: Option<BigInt>,
    pub note: Option<String>,
}

record_object! {
    /// An innovative startup.
    Startup(startups::Model), RecordKind::Startup, {
        async fn name(&self) -> &str {
            &self.0.name
        }

        /// The company behind it, with its tax code.
        async fn organisation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organisation>> {
            load_organisation(ctx, self.0.organisation_id).await
        }

        /// Field of activity (lĩnh vực).
        async fn sector(&self) -> Option<&str> {
            self.0.sector.as_deref()
        }

        async fn founded_year(&self) -> Option<i32> {
            self.0.founded_year
        }

        async fn district(&self) -> Option<&str> {
            self.0.district.as_deref()
        }

        /// Support received, oldest first.
        async fn support_events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SupportEvent>> {
            Ok(record_loader(ctx)?
                .load_one(StartupSupport(self.0.id))
                .await
                .api()?
                .unwrap_or_default()
                .into_iter()
                .map(|e| SupportEvent {
                    year: e.year,
                    kind: e.kind,
                    amount_vnd: e.amount_vnd.map(BigInt),
                    note: e.note,
                })
                .collect())
        }
    }
}

filter_input! {
    /// Conditions on startups; all given fields must hold.
    StartupFilter, "STARTUP" {
        name: StringFilter => ("name", "name", FieldType::FoldedText { folded: "search_key" }),
        sector: StringFilter => ("sector", "sector", FieldType::Text),
        founded_year: IntFilter => ("foundedYear", "founded_year", FieldType::Int { min: 1900, max: 2100 }),
        district: StringFilter => ("district", "district", FieldType::Text),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum StartupOrderField {
    Name,
    Sector,
    FoundedYear,
    UpdatedAt,
}

impl SortField for StartupOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Sector => "sector",
            Self::FoundedYear => "founded_year",
            Self::UpdatedAt => "updated_at",
        }
    }
}

record_queries!(
    StartupQuery,
    startups,
    startup,
    Startup,
    startups::Entity,
    RecordKind::Startup,
    StartupFilter,
    StartupOrderField,
    [SortKey {
        column: "name",
        descending: false
    }]
);

/// Support a startup received, as an input.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportEventInput {
    pub year: i32,
    /// What kind of support (hình thức hỗ trợ).
    pub kind: String,
    /// Amount in VND, not negative.
    pub amount_vnd: Option<BigInt>,
    /// The supporting agency's code.
    pub agency: Option<String>,
    pub note: Option<String>,
}

/// A startup as an agency pushes it. `supportEvents`, when given, replaces the list.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartupInput {
    pub name: String,
    /// The company, matched by tax code or name, created when new.
    pub organisation: Option<crate::graphql::mutations::OrganisationInput>,
    pub sector: Option<String>,
    pub founded_year: Option<i32>,
    pub district: Option<String>,
    pub support_events: Option<Vec<SupportEventInput>>,
}

impl StartupInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<startups::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::graphql::mutations::{NAME, TEXT, content, organisation};
        let model = content!(startups {
            name: check.text("name", &self.name, NAME),
            organisation_id: None,
            sector: check.opt_text("sector", self.sector.as_deref(), NAME),
            founded_year: check.opt_year("foundedYear", self.founded_year),
            district: check.opt_text("district", self.district.as_deref(), NAME),
        });
        let organisation = organisation(&mut check, "organisation", self.organisation.as_ref());
        let support_events = self.support_events.as_ref().map(|events| {
            events
                .iter()
                .enumerate()
                .map(|(i, event)| {
                    let mut nested = check.nested(&format!("supportEvents[{i}]"));
                    let draft = crate::store::writes::SupportEventDraft {
                        year: nested.int_range("year", i64::from(event.year), 1900, 2100) as i32,
                        kind: nested.text("kind", &event.kind, NAME),
                        amount_vnd: event
                            .amount_vnd
                            .map(|a| nested.int_range("amountVnd", a.0, 0, i64::MAX)),
                        agency_id: refs.agency(&mut nested, "agency", event.agency.as_deref()),
                        note: nested.opt_text("note", event.note.as_deref(), TEXT),
                    };
                    check.absorb(nested);
                    draft
                })
                .collect()
        });
        check.finish(crate::store::writes::Draft {
            model,
            organisation,
            support_events,
        })
    }
}

crate::graphql::mutations::record_mutations!(
    StartupMutation,
    Startup,
    startups::Model,
    StartupInput,
    StartupUpsertResult,
    create_startup,
    update_startup,
    archive_startup,
    upsert_startup,
    import_startups
);
