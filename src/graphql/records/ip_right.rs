//! Industrial property rights: geographical indications, certification and collective
//! marks, trademarks.

use async_graphql::{Context, Enum};

use super::{record_object, record_queries};
use crate::db::entities::ip_rights;
use crate::domain::records::{IpRightKind as Kind, IpRightStatus as Status, RecordKind};
use crate::graphql::agency::Agency;
use crate::graphql::list::{BooleanFilter, DateFilter, SortField, StringFilter, filter_input};
use crate::graphql::plan::load_agency;
use crate::graphql::scalars::Date;
use crate::store::records::SortKey;

const KINDS: &[&str] = &[
    "GEOGRAPHICAL_INDICATION",
    "CERTIFICATION_MARK",
    "COLLECTIVE_MARK",
    "TRADEMARK",
];
const STATUSES: &[&str] = &["FILED", "REGISTERED", "REFUSED", "EXPIRED"];

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IpRightKind {
    /// Chỉ dẫn địa lý.
    GeographicalIndication,
    /// Nhãn hiệu chứng nhận.
    CertificationMark,
    /// Nhãn hiệu tập thể.
    CollectiveMark,
    Trademark,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IpRightStatus {
    Filed,
    Registered,
    Refused,
    Expired,
}

record_object! {
    /// A geographical indication, certification or collective mark, or trademark.
    IpRight(ip_rights::Model), RecordKind::IpRight, {
        async fn name(&self) -> &str {
            &self.0.name
        }

        async fn kind(&self) -> Option<IpRightKind> {
            Kind::parse(&self.0.right_kind).ok().map(|k| match k {
                Kind::GeographicalIndication => IpRightKind::GeographicalIndication,
                Kind::CertificationMark => IpRightKind::CertificationMark,
                Kind::CollectiveMark => IpRightKind::CollectiveMark,
                Kind::Trademark => IpRightKind::Trademark,
            })
        }

        /// The product it protects (xoài, sen, quýt hồng, khô…).
        async fn product(&self) -> Option<&str> {
            self.0.product.as_deref()
        }

        /// Whether the product is a farm product (counts towards the IP-abroad target).
        async fn farm_product(&self) -> bool {
            self.0.farm_product
        }

        /// ISO 3166 code of the country that granted it (VN, JP…).
        async fn jurisdiction(&self) -> &str {
            &self.0.jurisdiction
        }

        /// Certificate number (số văn bằng); null when unknown.
        async fn number(&self) -> Option<&str> {
            self.0.number.as_deref()
        }

        async fn filed_on(&self) -> Option<Date> {
            self.0.filed_on.map(Date)
        }

        async fn registered_on(&self) -> Option<Date> {
            self.0.registered_on.map(Date)
        }

        async fn status(&self) -> Option<IpRightStatus> {
            self.0.status.as_deref().and_then(|s| Status::parse(s).ok()).map(|s| match s {
                Status::Filed => IpRightStatus::Filed,
                Status::Registered => IpRightStatus::Registered,
                Status::Refused => IpRightStatus::Refused,
                Status::Expired => IpRightStatus::Expired,
            })
        }

        /// The holder of the right.
        async fn holder(&self) -> Option<&str> {
            self.0.holder.as_deref()
        }

        /// The agency that manages it.
        async fn managing_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
            load_agency(ctx, self.0.managing_agency_id).await
        }
    }
}

filter_input! {
    /// Conditions on IP rights; all given fields must hold.
    IpRightFilter, "IP_RIGHT" {
        name: StringFilter => ("name", "name", FieldType::FoldedText { folded: "search_key" }),
        kind: StringFilter => ("kind", "right_kind", FieldType::Vocabulary(KINDS)),
        product: StringFilter => ("product", "product", FieldType::Text),
        farm_product: BooleanFilter => ("farmProduct", "farm_product", FieldType::Bool),
        jurisdiction: StringFilter => ("jurisdiction", "jurisdiction", FieldType::Text),
        number: StringFilter => ("number", "number", FieldType::Text),
        filed_on: DateFilter => ("filedOn", "filed_on", FieldType::Date),
        registered_on: DateFilter => ("registeredOn", "registered_on", FieldType::Date),
        status: StringFilter => ("status", "status", FieldType::Vocabulary(STATUSES)),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IpRightOrderField {
    Name,
    Kind,
    Jurisdiction,
    FiledOn,
    RegisteredOn,
    UpdatedAt,
}

impl SortField for IpRightOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Kind => "right_kind",
            Self::Jurisdiction => "jurisdiction",
            Self::FiledOn => "filed_on",
            Self::RegisteredOn => "registered_on",
            Self::UpdatedAt => "updated_at",
        }
    }
}

record_queries!(
    IpRightQuery,
    ip_rights,
    ip_right,
    IpRight,
    ip_rights::Entity,
    RecordKind::IpRight,
    IpRightFilter,
    IpRightOrderField,
    [SortKey {
        column: "id",
        descending: false
    }]
);

/// An IP right as an agency pushes it.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpRightInput {
    pub name: String,
    /// GEOGRAPHICAL_INDICATION, CERTIFICATION_MARK, COLLECTIVE_MARK or TRADEMARK.
    pub kind: String,
    pub product: Option<String>,
    /// Whether it protects a farm product (counts towards target 4 when abroad).
    #[graphql(default = false)]
    #[serde(default)]
    pub farm_product: bool,
    /// ISO 3166 two-letter code of the granting country (VN, JP…).
    pub jurisdiction: String,
    /// Certificate number (số văn bằng).
    pub number: Option<String>,
    pub filed_on: Option<Date>,
    pub registered_on: Option<Date>,
    /// FILED, REGISTERED, REFUSED or EXPIRED.
    pub status: Option<String>,
    pub holder: Option<String>,
    /// The managing agency's code (`so-khcn`).
    pub managing_agency: Option<String>,
}

impl IpRightInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<ip_rights::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::graphql::mutations::{CODE, NAME, content};
        let jurisdiction = self.jurisdiction.trim().to_ascii_uppercase();
        if jurisdiction.len() != 2 || !jurisdiction.bytes().all(|b| b.is_ascii_uppercase()) {
            check.fail(
                "jurisdiction",
                format!(
                    "{:?} is not a two-letter ISO 3166 country code (VN, JP…)",
                    self.jurisdiction
                ),
            );
        }
        let filed_on = self.filed_on.map(|d| d.0);
        let registered_on = self.registered_on.map(|d| d.0);
        check.date_order(("filedOn", filed_on), ("registeredOn", registered_on));
        let model = content!(ip_rights {
            name: check.text("name", &self.name, NAME),
            right_kind: check
                .term("kind", Some(&self.kind), Kind::parse)
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default(),
            product: check.opt_text("product", self.product.as_deref(), NAME),
            farm_product: self.farm_product,
            jurisdiction,
            number: check.opt_text("number", self.number.as_deref(), CODE),
            filed_on,
            registered_on,
            status: check
                .term("status", self.status.as_deref(), Status::parse)
                .map(|s| s.as_str().to_owned()),
            holder: check.opt_text("holder", self.holder.as_deref(), NAME),
            managing_agency_id: refs.agency(
                &mut check,
                "managingAgency",
                self.managing_agency.as_deref()
            ),
        });
        check.finish(crate::store::writes::Draft::new(model))
    }
}

crate::graphql::mutations::record_mutations!(
    IpRightMutation,
    IpRight,
    ip_rights::Model,
    IpRightInput,
    IpRightUpsertResult,
    create_ip_right,
    update_ip_right,
    archive_ip_right,
    upsert_ip_right,
    import_ip_rights
);
