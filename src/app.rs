//! The application as a value: built from settings, then run until a shutdown signal.
//! `main` and the integration tests build it the same way.

use std::future::Future;
use std::net::SocketAddr;

use sea_orm::DatabaseConnection;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::db::{self, DbSetupError};
use crate::domain::bodies_source::BodiesSource;
use crate::domain::ip_source::IpRightsSource;
use crate::domain::plan_source::{PlanSource, PlanSourceError};
use crate::graphql::build_schema;
use crate::http::{AppState, router};
use crate::store::{self, StoreError, seed::SeedOutcome};
use crate::sync::scheduler::Connectors;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Database(#[from] DbSetupError),
    #[error("the bundled plan transcription is invalid")]
    PlanSource(#[from] PlanSourceError),
    #[error("cannot load the plan")]
    Seed(#[from] StoreError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("a connector definition is invalid")]
    Connectors(#[from] crate::sync::definition::DefinitionError),
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
}

pub struct App {
    listener: TcpListener,
    state: AppState,
    feed: crate::store::feed::ChangeFeed,
    connectors: Connectors,
    schedules: bool,
}

/// The connectors defined in the settings' folder, bound to a database and feed.
pub fn load_connectors(
    settings: &Settings,
    db: &DatabaseConnection,
    feed: &crate::store::feed::ChangeFeed,
) -> Result<Connectors, AppError> {
    let definitions = crate::sync::definition::load_dir(&settings.connectors)?;
    Ok(Connectors {
        definitions: std::sync::Arc::new(definitions),
        engine: crate::sync::Engine {
            db: db.clone(),
            feed: feed.clone(),
        },
    })
}

/// Opens and migrates the database named in `settings`.
pub async fn open_database(settings: &Settings) -> Result<DatabaseConnection, AppError> {
    let options = db::Options {
        sqlite_max_size_mb: settings.sqlite_max_size_mb,
    };
    let db = db::connect_with(&settings.database_url, &options).await?;
    db::migrate(&db, &settings.database_url).await?;
    Ok(db)
}

/// Loads the bundled plan 136/KH-UBND, then the places and IP rights it names; what is
/// already loaded is left as it is.
pub async fn seed_plan(db: &DatabaseConnection) -> Result<SeedOutcome, AppError> {
    let source = PlanSource::plan_136()?;
    let outcome = store::seed::load_plan(db, &source).await?;
    let ip_rights = IpRightsSource::bundled()?;
    let bodies = BodiesSource::bundled()?;
    let reference = store::seed::load_reference_records(db, &ip_rights, &bodies).await?;
    tracing::debug!(?reference, "reference records loaded");
    // The plan and the rights it names are few; their search entries are brought up to
    // date at every start. Everything else is indexed as it is written, and a database
    // whose search table is empty gets one built from its records.
    if store::search::rebuild_if_empty(db).await? {
        tracing::info!("built the search table from the database");
    } else {
        store::search::index_plan(db)
            .await
            .map_err(StoreError::from)?;
        store::search::index_kind::<crate::records::ip_right::IpRight, _>(db)
            .await
            .map_err(StoreError::from)?;
    }
    Ok(outcome)
}

impl App {
    /// Connects, migrates, loads the plan when the database has none, and binds.
    pub async fn build(settings: &Settings) -> Result<Self, AppError> {
        let db = open_database(settings).await?;
        // Idempotent: loads the plan into an empty database, and whatever reference
        // records a newer version of the hub added since.
        let outcome = seed_plan(&db).await?;
        if matches!(outcome, SeedOutcome::Loaded { .. }) {
            tracing::info!(%outcome, "loaded the plan into an empty database");
        }
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|source| AppError::Bind {
                addr: settings.bind,
                source,
            })?;
        let limits = settings.limits();
        let feed = crate::store::feed::ChangeFeed::new();
        let connectors = load_connectors(settings, &db, &feed)?;
        let state = AppState {
            schema: build_schema(db.clone(), &limits, feed.clone(), connectors.clone()),
            introspection_schema: crate::graphql::build_introspection_schema(&limits),
            db,
            limits,
            graphiql: settings.graphiql,
            anonymous_reads: settings.anonymous_reads,
            rate_limits: std::sync::Arc::new(crate::http::rate_limit::RateLimits::new(
                settings.rate_limit_per_minute,
                settings.rate_limit_burst,
            )),
            report_fonts: std::sync::Arc::new(crate::report::ReportFonts::new(
                settings.report_fonts.clone(),
            )),
        };
        Ok(Self {
            listener,
            state,
            feed,
            connectors,
            schedules: settings.schedules,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, AppError> {
        self.listener.local_addr().map_err(AppError::Serve)
    }

    pub fn database(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// The change feed the server's writes (and its connectors') are published on.
    pub fn feed(&self) -> &crate::store::feed::ChangeFeed {
        &self.feed
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let addr = self.local_addr()?;
        tracing::info!(%addr, database = db::backend_name(&self.state.db), "khcn-hub listening; GraphiQL at /graphql");
        for definition in self.connectors.definitions.iter() {
            match definition.disabled_reason() {
                Some(reason) => {
                    tracing::info!(connector = definition.name, reason, "connector disabled")
                }
                None => tracing::info!(
                    connector = definition.name,
                    schedule = definition.schedule_text,
                    "connector scheduled"
                ),
            }
        }
        let schedules = if self.schedules {
            self.connectors.spawn_schedules()
        } else {
            Vec::new()
        };
        let _stop_schedules = AbortOnDrop(schedules);
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(AppError::Serve)
    }
}

/// Stops the schedule tasks when the server stops.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
