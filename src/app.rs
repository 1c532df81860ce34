//! The application as a value: built from settings, then run until a shutdown signal.
//! `main` and the integration tests build it the same way.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;

use sea_orm::DatabaseConnection;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::db::{self, DbSetupError};
use crate::domain::bodies_source::BodiesSource;
use crate::domain::ip_source::IpRightsSource;
use crate::domain::plan_source::{PlanSource, PlanSourceError};
use crate::graphql::build_schema_and_twin;
use crate::http::{AppState, Handlers, router};
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
    #[error("cannot set up webhook delivery")]
    Webhooks(#[from] crate::domain::webhooks::WebhookError),
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
}

pub struct App {
    listener: TcpListener,
    state: AppState,
    feed: crate::store::feed::ChangeFeed,
    connectors: Connectors,
    webhooks: crate::webhooks::Webhooks,
    schedules: bool,
    /// How long the change log keeps an entry.
    change_log_retention: std::time::Duration,
    shutdown: crate::shutdown::Shutdown,
    /// How long shutdown waits for in-flight requests and connector runs.
    shutdown_timeout: std::time::Duration,
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
            lease: std::time::Duration::from_secs(settings.connector_lease_secs.max(1)),
            ..crate::sync::Engine::new(db.clone(), feed.clone())
        },
    })
}

/// Opens and migrates the database named in `settings`.
pub async fn open_database(settings: &Settings) -> Result<DatabaseConnection, AppError> {
    let options = db::Options {
        sqlite_max_size_mb: settings.sqlite_max_size_mb,
        pg_random_page_cost: Some(settings.pg_random_page_cost.clone())
            .filter(|cost| !cost.is_empty()),
    };
    let mut db = db::connect_with(&settings.database_url, &options).await?;
    crate::http::prometheus::install();
    crate::http::prometheus::watch_statements(&mut db);
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
        feed.start_at(
            store::changes::head(&db)
                .await
                .map_err(StoreError::from)?
                .seq,
        );
        let shutdown = crate::shutdown::Shutdown::default();
        let mut connectors = load_connectors(settings, &db, &feed)?;
        connectors.engine.shutdown = shutdown.signal();

        let rate_limits = std::sync::Arc::new(crate::http::rate_limit::RateLimits::for_database(
            &db,
            settings.rate_limit_per_minute,
            settings.rate_limit_burst,
        ));
        let (schema, validated_schema) = build_schema_and_twin(
            db.clone(),
            &limits,
            feed.clone(),
            connectors.clone(),
            settings.webhooks(),
        );
        let state = AppState::new(Handlers {
            schema,
            validated_schema,
            validated: Default::default(),
            introspection_schema: crate::graphql::build_introspection_schema(&limits),
            db,
            limits,
            graphiql: settings.graphiql,
            anonymous_reads: settings.anonymous_reads,
            persisted_only: settings.persisted_only,
            metrics_token: settings.metrics_token.clone().filter(|t| !t.is_empty()),
            shutdown: shutdown.signal(),
            in_flight: Default::default(),
            rate_limits,
            documents: Default::default(),
            report_fonts: std::sync::Arc::new(crate::report::ReportFonts::new(
                settings.report_fonts.clone(),
            )),
        });
        let webhooks = crate::webhooks::Webhooks::new(state.db.clone(), settings.webhooks())?;
        Ok(Self {
            listener,
            state,
            feed,
            connectors,
            webhooks,
            schedules: settings.schedules,
            change_log_retention: std::time::Duration::from_secs(
                settings.change_log_retention_secs.max(1),
            ),
            shutdown,
            shutdown_timeout: std::time::Duration::from_secs(settings.shutdown_timeout_secs),
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

    /// Serves until `signal` completes, then shuts down gracefully: `/readyz` answers 503
    /// and new requests are refused, subscriptions are closed with a close frame,
    /// connector runs stop at their next page and let go of their claims, and the
    /// requests in flight finish, all within the shutdown timeout.
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
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
        let mut background = if self.schedules {
            self.connectors.spawn_schedules()
        } else {
            Vec::new()
        };
        // A safety net under notifications (PostgreSQL); how SQLite hears of writes by
        // other processes.
        let poll = match self.state.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => std::time::Duration::from_secs(5),
            _ => std::time::Duration::from_secs(1),
        };
        background.push(tokio::spawn(
            self.feed.clone().follow(self.state.db.clone(), poll),
        ));
        background.push(tokio::spawn(store::changes::keep_pruning(
            self.state.db.clone(),
            self.change_log_retention,
        )));
        background.push(tokio::spawn(crate::graphql::bi::keep_targets_current(
            self.state.schema.clone(),
            self.state.db.clone(),
            self.feed.clone(),
        )));
        background.push(tokio::spawn(self.webhooks.clone().run(self.feed.clone())));
        background.push(tokio::spawn(crate::http::prometheus::keep_folding_samples()));
        let _stop_background = crate::shutdown::AbortOnDrop(background);
        let timeout = self.shutdown_timeout;
        let drained = {
            let shutdown = self.shutdown.clone();
            let requests = self.state.in_flight.clone();
            let runs = self.connectors.engine.runs.clone();
            async move {
                signal.await;
                shutdown.start();
                tracing::info!(
                    requests = requests.count(),
                    connector_runs = runs.count(),
                    timeout_secs = timeout.as_secs(),
                    "shutting down: refusing new requests, finishing those in flight"
                );
                let finished = async { tokio::join!(requests.idle(), runs.idle()) };
                if tokio::time::timeout(timeout, finished).await.is_err() {
                    tracing::warn!(
                        requests = requests.count(),
                        connector_runs = runs.count(),
                        "shutdown timeout reached with work still in flight"
                    );
                }
            }
        };
        // After the drain, connections still open (a client that never finishes its
        // request body) get a second more, then the process exits regardless.
        let deadline = {
            let started = self.shutdown.signal();
            async move {
                started.started().await;
                tokio::time::sleep(timeout + std::time::Duration::from_secs(1)).await;
            }
        };
        let server = axum::serve(self.listener, router(self.state)).with_graceful_shutdown(drained);
        tokio::select! {
            served = server.into_future() => served.map_err(AppError::Serve)?,
            () = deadline => tracing::warn!("connections still open after the shutdown timeout were closed"),
        }
        tracing::info!("stopped");
        Ok(())
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
