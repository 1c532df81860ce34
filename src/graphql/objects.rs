//! The API's object types, declared here and given their fields where their domain is
//! served (`plan`, `agency`, `audit`, `records`…). The object graph is a web (a task
//! names its agencies and records, an agency and a record name their tasks); declaring
//! the types in one low place lets every module name the others without importing each
//! other.

use std::marker::PhantomData;
use std::sync::Arc;

use std::borrow::Cow;

use async_graphql::indexmap::IndexSet;
use async_graphql::parser::types::Field;
use async_graphql::registry::{MetaType, MetaTypeId, Registry};
use async_graphql::resolver_utils::{ContainerType, Fields};
use async_graphql::{
    Context, ContextSelectionSet, OutputType, Positioned, ServerResult, SimpleObject, Union,
    UnionType, Value,
};

use super::scalars::BigInt;
use crate::db::entities::{
    agencies, agency_groups, audit_log, legal_documents, organisations, plans, sections, targets,
    task_coordinators, tasks,
};
use crate::domain::auth::Caller;
use crate::domain::records::{RecordKind, RecordRef};
use crate::records::Kind;

/// A government agency (Sở, UBND, Hội…).
#[derive(Clone)]
pub struct Agency(pub agencies::Model);

/// A group of agencies or a kind of organisation named as a coordinator
/// ("Các Sở, ngành Tỉnh", "UBND huyện, thành phố", "Doanh nghiệp liên quan").
#[derive(Clone)]
pub struct AgencyGroup(pub agency_groups::Model);

/// A coordinating party: one agency or a group.
#[derive(Union)]
pub enum Party {
    Agency(Agency),
    AgencyGroup(AgencyGroup),
}

/// One entry of a task's coordinator cell.
pub struct CoordinatorEntry(pub task_coordinators::Model);

/// One write: who made it, when, to what, and the record before and after.
#[derive(Clone)]
pub struct AuditEntry(pub audit_log::Model);

/// A plan document such as 136/KH-UBND, with its sections, tasks and key targets.
#[derive(Clone)]
pub struct Plan(pub plans::Model);

/// A section of the task appendix.
#[derive(Clone)]
pub struct Section(pub sections::Model);

/// A task (nhiệm vụ, giải pháp) of the appendix.
#[derive(Clone)]
pub struct Task(pub tasks::Model);

/// A key target to 2025 (chỉ tiêu chủ yếu).
#[derive(Clone)]
pub struct Target(pub targets::Model);

/// A legal document the plan cites (decision, plan, resolution…).
#[derive(Clone)]
pub struct LegalDocument(pub legal_documents::Model);

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

/// An organisation: a producer, startup, host institution or enterprise.
#[derive(Clone)]
pub struct Organisation(pub Arc<organisations::Model>);

/// A record of kind `K`.
pub struct RecordNode<K: Kind>(pub Arc<K::Model>, pub(super) PhantomData<K>);

impl<K: Kind> Clone for RecordNode<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

/// Declares the unions over every kind.
macro_rules! record_unions {
    ($($variant:ident $module:ident $name:literal),* $(,)?) => {
        /// Any linked record.
        #[derive(Clone)]
        pub enum LinkedRecord {
            $($variant(RecordNode<crate::records::$module::$variant>),)*
        }

        $(impl From<RecordNode<crate::records::$module::$variant>> for LinkedRecord {
            fn from(node: RecordNode<crate::records::$module::$variant>) -> Self {
                LinkedRecord::$variant(node)
            }
        })*

        // By hand rather than derived, so that a record reached through the union is
        // resolved by its own `resolve` (leaves without a future each).
        impl OutputType for LinkedRecord {
            fn type_name() -> Cow<'static, str> {
                Cow::Borrowed("LinkedRecord")
            }

            fn introspection_type_name(&self) -> Cow<'static, str> {
                match self { $(LinkedRecord::$variant(_) => <RecordNode<crate::records::$module::$variant> as OutputType>::type_name(),)* }
            }

            fn create_type_info(registry: &mut Registry) -> String {
                registry.create_output_type::<Self, _>(MetaTypeId::Union, |registry| {
                    let mut possible_types = IndexSet::new();
                    $(possible_types.insert(
                        <RecordNode<crate::records::$module::$variant> as OutputType>::create_type_info(registry)
                            .trim_end_matches('!')
                            .to_owned(),
                    );)*
                    MetaType::Union {
                        name: "LinkedRecord".to_owned(),
                        description: Some("Any linked record.".to_owned()),
                        possible_types,
                        visible: None,
                        inaccessible: false,
                        tags: Vec::new(),
                        rust_typename: Some(std::any::type_name::<Self>()),
                        directive_invocations: Vec::new(),
                    }
                })
            }

            async fn resolve(
                &self,
                ctx: &ContextSelectionSet<'_>,
                field: &Positioned<Field>,
            ) -> ServerResult<Value> {
                match self { $(LinkedRecord::$variant(node) => node.resolve(ctx, field).await,)* }
            }
        }

        impl ContainerType for LinkedRecord {
            async fn resolve_field(&self, _ctx: &Context<'_>) -> ServerResult<Option<Value>> {
                Ok(None)
            }

            fn collect_all_fields<'a>(
                &'a self,
                ctx: &ContextSelectionSet<'a>,
                fields: &mut Fields<'a>,
            ) -> ServerResult<()> {
                match self { $(LinkedRecord::$variant(node) => node.collect_all_fields(ctx, fields),)* }
            }
        }

        impl UnionType for LinkedRecord {}

        impl LinkedRecord {
            pub fn reference(&self) -> RecordRef {
                match self { $(LinkedRecord::$variant(node) => node.reference(),)* }
            }

            /// Whether `caller` may read this record (archived ones are private).
            pub fn readable_by(&self, caller: &Caller) -> bool {
                match self { $(LinkedRecord::$variant(node) => node.readable_by(caller),)* }
            }

            /// The organisation the record names (producer, host, enterprise), if any.
            pub fn organisation(&self) -> Option<i32> {
                match self { $(LinkedRecord::$variant(node) => node.organisation(),)* }
            }

            /// The record as a node of kind `K`, if it is one.
            pub fn node<K: Kind>(&self) -> Option<RecordNode<K>> {
                match self {
                    $(LinkedRecord::$variant(node) => {
                        (node as &dyn std::any::Any).downcast_ref::<RecordNode<K>>().cloned()
                    })*
                }
            }
        }

        /// What a search hit points at.
        #[derive(Union, Clone)]
        pub enum SearchResult {
            Task(Box<Task>),
            Agency(Box<Agency>),
            $($variant(RecordNode<crate::records::$module::$variant>),)*
        }

        impl From<LinkedRecord> for SearchResult {
            fn from(record: LinkedRecord) -> Self {
                match record { $(LinkedRecord::$variant(node) => SearchResult::$variant(node),)* }
            }
        }

        #[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
        pub enum SearchHitKind {
            Task,
            Agency,
            $($variant,)*
        }

        impl From<RecordKind> for SearchHitKind {
            fn from(kind: RecordKind) -> Self {
                match kind { $(RecordKind::$variant => SearchHitKind::$variant,)* }
            }
        }
    };
}
crate::domain::registry::registry!(record_unions!());
