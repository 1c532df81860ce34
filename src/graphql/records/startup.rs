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
