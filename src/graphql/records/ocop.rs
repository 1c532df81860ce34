//! OCOP products (Mỗi xã một sản phẩm): rated 3 to 5 stars.

use async_graphql::{Context, Enum};

use super::{Organisation, load_organisation, record_object, record_queries};
use crate::db::entities::ocop_products;
use crate::domain::records::RecordKind;
use crate::graphql::list::{DateFilter, IntFilter, SortField, StringFilter, filter_input};
use crate::graphql::scalars::Date;
use crate::store::records::SortKey;

record_object! {
    /// An OCOP-certified product (sản phẩm OCOP).
    OcopProduct(ocop_products::Model), RecordKind::OcopProduct, {
        async fn name(&self) -> &str {
            &self.0.name
        }

        /// The producer (chủ thể): a cooperative, enterprise or household business.
        async fn producer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organisation>> {
            load_organisation(ctx, self.0.producer_id).await
        }

        /// The commune as the record was published with it.
        async fn commune(&self) -> Option<&str> {
            self.0.commune.as_deref()
        }

        /// The district as the record was published with it.
        async fn district(&self) -> Option<&str> {
            self.0.district.as_deref()
        }

        /// The district's stable code ("lai-vung"), matched from the published name.
        async fn district_code(&self) -> Option<&str> {
            self.0.district_code.as_deref()
        }

        /// 3, 4 or 5.
        async fn stars(&self) -> i32 {
            i32::from(self.0.stars)
        }

        async fn certified_on(&self) -> Option<Date> {
            self.0.certified_on.map(Date)
        }

        async fn valid_until(&self) -> Option<Date> {
            self.0.valid_until.map(Date)
        }

        /// The year of the evaluation round (năm đánh giá).
        async fn evaluation_year(&self) -> Option<i32> {
            self.0.evaluation_year
        }

        /// Product group (food, drink, herbs, crafts…).
        async fn category(&self) -> Option<&str> {
            self.0.category.as_deref()
        }
    }
}

filter_input! {
    /// Conditions on OCOP products; all given fields must hold.
    OcopProductFilter, "OCOP_PRODUCT" {
        /// Matched ignoring case and diacritics with `contains`.
        name: StringFilter => ("name", "name", FieldType::FoldedText { folded: "search_key" }),
        /// A district of Đồng Tháp, however written ("Lai Vung", "huyện Lai Vung").
        district: StringFilter => ("district", "district_code", FieldType::District),
        commune: StringFilter => ("commune", "commune", FieldType::Text),
        stars: IntFilter => ("stars", "stars", FieldType::Int { min: 3, max: 5 }),
        certified_on: DateFilter => ("certifiedOn", "certified_on", FieldType::Date),
        valid_until: DateFilter => ("validUntil", "valid_until", FieldType::Date),
        evaluation_year: IntFilter => ("evaluationYear", "evaluation_year", FieldType::Int { min: 2000, max: 2100 }),
        category: StringFilter => ("category", "category", FieldType::Text),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OcopProductOrderField {
    Name,
    District,
    Commune,
    Stars,
    CertifiedOn,
    ValidUntil,
    EvaluationYear,
    UpdatedAt,
}

impl SortField for OcopProductOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::District => "district_code",
            Self::Commune => "commune",
            Self::Stars => "stars",
            Self::CertifiedOn => "certified_on",
            Self::ValidUntil => "valid_until",
            Self::EvaluationYear => "evaluation_year",
            Self::UpdatedAt => "updated_at",
        }
    }
}

record_queries!(
    OcopQuery,
    ocop_products,
    ocop_product,
    OcopProduct,
    ocop_products::Entity,
    RecordKind::OcopProduct,
    OcopProductFilter,
    OcopProductOrderField,
    [SortKey {
        column: "name",
        descending: false
    }]
);

/// An OCOP product as an agency pushes it.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OcopProductInput {
    pub name: String,
    /// The producer (chủ thể), matched by tax code or name, created when new.
    pub producer: Option<crate::graphql::mutations::OrganisationInput>,
    pub commune: Option<String>,
    /// As published; a district of Đồng Tháp is also matched to its code.
    pub district: Option<String>,
    /// 3, 4 or 5.
    pub stars: i32,
    pub certified_on: Option<Date>,
    pub valid_until: Option<Date>,
    pub evaluation_year: Option<i32>,
    pub category: Option<String>,
}

impl OcopProductInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        _refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<ocop_products::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::graphql::mutations::{CODE, NAME, content, organisation};
        let district = check.opt_text("district", self.district.as_deref(), NAME);
        let district_code = district
            .as_deref()
            .and_then(crate::domain::places::find_district)
            .map(|d| d.code.to_owned());
        let certified_on = self.certified_on.map(|d| d.0);
        let valid_until = self.valid_until.map(|d| d.0);
        check.date_order(("certifiedOn", certified_on), ("validUntil", valid_until));
        let model = content!(ocop_products {
            name: check.text("name", &self.name, NAME),
            producer_id: None,
            commune: check.opt_text("commune", self.commune.as_deref(), NAME),
            district,
            district_code,
            stars: check.int_range("stars", i64::from(self.stars), 3, 5) as i16,
            certified_on,
            valid_until,
            evaluation_year: check.opt_year("evaluationYear", self.evaluation_year),
            category: check.opt_text("category", self.category.as_deref(), CODE),
        });
        let organisation = organisation(&mut check, "producer", self.producer.as_ref());
        check.finish(crate::store::writes::Draft {
            model,
            organisation,
            support_events: None,
        })
    }
}

crate::graphql::mutations::record_mutations!(
    OcopMutation,
    OcopProduct,
    ocop_products::Model,
    OcopProductInput,
    OcopProductUpsertResult,
    create_ocop_product,
    update_ocop_product,
    archive_ocop_product,
    upsert_ocop_product,
    import_ocop_products
);
