//! Settings: typed, from command-line flags and environment variables, validated once.
//! No other module reads the environment.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::graphql::limits::Limits;
use crate::sample::SampleSize;

/// The default database: an SQLite file under `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/khcn-hub.db?mode=rwc";

#[derive(Debug, Parser)]
#[command(
    name = "khcn-hub",
    version,
    about = "GraphQL hub for Đồng Tháp's science-and-technology plan 136/KH-UBND and the records that track it"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Migrate, load the plan if the database has none, and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the plan into the database (a plan already there is left unchanged).
    Seed {
        /// Also load the labelled, deterministic sample data set (source "sample").
        #[arg(long)]
        sample: bool,
        /// With --sample: load N copies of the sample, N times its records and links.
        #[arg(long, value_name = "N", default_value_t = NonZeroUsize::MIN, requires = "sample")]
        scale: NonZeroUsize,
        /// The size of one copy of the sample, `OCOP_PRODUCTS,STARTUPS,TRACEABILITY_ENTRIES`
        /// (3000,1000,200000 by default); for tests that want a small one.
        #[arg(long, hide = true, requires = "sample")]
        sample_size: Option<SampleSize>,
    },
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Draft the yearly report the plan asks for (section IV.2) as a Word or PDF file,
    /// read from the database as an administrator.
    Report {
        /// The year reported on.
        #[arg(long)]
        year: i32,
        /// One obliged body's report (its code, e.g. so-khcn) instead of the consolidated one.
        #[arg(long, value_name = "CODE")]
        agency: Option<String>,
        /// docx (to edit) or pdf (to file).
        #[arg(long, default_value = "docx")]
        format: crate::report::Format,
        /// Where to write the file.
        #[arg(long, value_name = "FILE")]
        output: std::path::PathBuf,
    },
    /// Manage persisted GraphQL documents (the allow-list of KHCN_HUB_PERSISTED_ONLY).
    Persisted {
        #[command(subcommand)]
        action: PersistedCommand,
    },
    /// Manage webhooks (endpoints that receive signed events).
    Webhook {
        #[command(subcommand)]
        action: WebhookCommand,
    },
    /// Run connectors now, with a progress bar and a summary table.
    Sync {
        /// The connector to run (its `name`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Run every enabled connector.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum PersistedCommand {
    /// Allow the GraphQL documents in these files; prints each one's SHA-256 (the hash
    /// clients send as extensions.persistedQuery.sha256Hash).
    Add {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint and print its id and signing secret.
    Create {
        /// Where deliveries are POSTed.
        #[arg(long)]
        url: String,
        /// Events to receive, comma-separated (record.created, record.updated,
        /// record.archived, link.created, link.removed, report.submitted,
        /// connector.run.failed, connector.paused, report.due).
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        /// Only events about these record kinds, comma-separated (e.g. OCOP_PRODUCT).
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
        /// The agency (code) the endpoint belongs to; it then receives only what that
        /// agency may read. Without it, the endpoint receives everything.
        #[arg(long)]
        agency: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List endpoints (never the secrets).
    List,
    /// Delete an endpoint and its deliveries.
    Delete { id: i32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once, alone on the last line.
    Create {
        /// The agency's code (e.g. so-khcn); required for the agency role only.
        #[arg(long)]
        agency: Option<String>,
        /// admin, agency or analyst.
        #[arg(long)]
        role: String,
        /// Lifetime, e.g. 90d or 12h; without it the token does not expire.
        #[arg(long)]
        expires: Option<String>,
        /// A note on who or what the token is for.
        #[arg(long)]
        label: Option<String>,
    },
    /// List tokens (never the secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i32 },
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host:port/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Largest size, in MiB, the SQLite database file may grow to; writes beyond it fail
    /// with STORAGE_FULL as on a full disk, and nothing is half-written. 0: no limit.
    #[arg(
        long,
        env = "KHCN_HUB_SQLITE_MAX_SIZE_MB",
        default_value_t = 0,
        global = true
    )]
    pub sqlite_max_size_mb: u64,

    /// PostgreSQL's `random_page_cost` for the hub's sessions: what the planner takes a
    /// page read out of order to cost, against 1 for one read in order. 1.1 suits a
    /// database held in memory or on SSD; empty keeps the server's setting.
    #[arg(
        long,
        env = "KHCN_HUB_PG_RANDOM_PAGE_COST",
        default_value = crate::db::RANDOM_PAGE_COST,
        value_parser = page_cost,
        global = true
    )]
    pub pg_random_page_cost: String,

    /// Address to listen on.
    #[arg(
        long,
        env = "KHCN_HUB_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// Deepest nesting a query may have.
    #[arg(long, env = "KHCN_HUB_MAX_DEPTH", default_value_t = Limits::default().max_depth, global = true)]
    pub max_depth: usize,

    /// Highest complexity a query may have (each field costs 1).
    #[arg(long, env = "KHCN_HUB_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity, global = true)]
    pub max_complexity: usize,

    /// Most directives one field may carry.
    #[arg(long, env = "KHCN_HUB_MAX_DIRECTIVES", default_value_t = Limits::default().max_directives, global = true)]
    pub max_directives: usize,

    /// Most aliased fields one document may have.
    #[arg(long, env = "KHCN_HUB_MAX_ALIASES", default_value_t = Limits::default().max_aliases, global = true)]
    pub max_aliases: usize,

    /// Longest document, in characters.
    #[arg(long, env = "KHCN_HUB_MAX_DOCUMENT_CHARS", default_value_t = Limits::default().max_document_chars, global = true)]
    pub max_document_chars: usize,

    /// Most lexical tokens one document may have.
    #[arg(long, env = "KHCN_HUB_MAX_DOCUMENT_TOKENS", default_value_t = Limits::default().max_document_tokens, global = true)]
    pub max_document_tokens: usize,

    /// Answer introspection queries (`__schema`, `__type`); switch off in production to
    /// hide the schema.
    #[arg(long, env = "KHCN_HUB_INTROSPECTION", default_value_t = true, global = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Suggest similar names ("did you mean …?") in validation errors.
    #[arg(long, env = "KHCN_HUB_SUGGESTIONS", default_value_t = true, global = true, action = clap::ArgAction::Set)]
    pub suggestions: bool,

    /// Largest request body, in bytes.
    #[arg(long, env = "KHCN_HUB_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes, global = true)]
    pub max_body_bytes: usize,

    /// Largest request body, in bytes, from agency and admin tokens (bulk imports).
    #[arg(long, env = "KHCN_HUB_MAX_IMPORT_BODY_BYTES", default_value_t = Limits::default().max_import_body_bytes, global = true)]
    pub max_import_body_bytes: usize,

    /// Longest a request may run, in seconds.
    #[arg(long, env = "KHCN_HUB_REQUEST_TIMEOUT_SECS", default_value_t = Limits::default().request_timeout.as_secs(), global = true)]
    pub request_timeout_secs: u64,

    /// How long batch loaders collect keys before querying, in milliseconds; 0 takes the
    /// batch as soon as the tasks already running have had their turn.
    #[arg(
        long,
        env = "KHCN_HUB_BATCH_WINDOW_MS",
        default_value_t = 0,
        global = true
    )]
    pub batch_window_ms: u64,

    /// Requests per minute one token may make (0: no limit).
    #[arg(
        long,
        env = "KHCN_HUB_RATE_LIMIT_PER_MINUTE",
        default_value_t = 6_000,
        global = true
    )]
    pub rate_limit_per_minute: u32,

    /// Requests one token may make at once before the per-minute rate applies.
    #[arg(
        long,
        env = "KHCN_HUB_RATE_LIMIT_BURST",
        default_value_t = 1_000,
        global = true
    )]
    pub rate_limit_burst: u32,

    /// On SIGTERM, how long to wait for in-flight requests and connector runs to finish
    /// before exiting.
    #[arg(
        long,
        env = "KHCN_HUB_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout_secs: u64,

    /// How long a connector run's claim stands unrenewed (its replica died) before another
    /// replica takes the run over; a live run renews it every third of this.
    #[arg(
        long,
        env = "KHCN_HUB_CONNECTOR_LEASE_SECS",
        default_value_t = 45,
        global = true
    )]
    pub connector_lease_secs: u64,

    /// How long the change log keeps a change: a subscriber may resume (`after`) up to
    /// this far back.
    #[arg(
        long,
        env = "KHCN_HUB_CHANGE_LOG_RETENTION_SECS",
        default_value_t = 7 * 24 * 3600,
        global = true
    )]
    pub change_log_retention_secs: u64,

    /// Let webhooks target loopback, private and link-local addresses (closed networks,
    /// tests); otherwise such targets are refused at creation and at delivery.
    #[arg(long, env = "KHCN_HUB_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, global = true, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,

    /// Longest one webhook delivery attempt may take, in seconds.
    #[arg(
        long,
        env = "KHCN_HUB_WEBHOOK_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub webhook_timeout_secs: u64,

    /// The wait after a webhook delivery's first failed attempt, in milliseconds; each
    /// later wait is five times longer (with jitter, at most 6 h), for 24 h.
    #[arg(
        long,
        env = "KHCN_HUB_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub webhook_retry_base_ms: u64,

    /// A bearer token `GET /metrics` requires; unset, the metrics are open to anyone who
    /// can reach the port (keep it internal).
    #[arg(
        long,
        env = "KHCN_HUB_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,

    /// Run only GraphQL documents registered with `khcn-hub persisted add` (or sent by an
    /// admin); others are refused. For public deployments.
    #[arg(long, env = "KHCN_HUB_PERSISTED_ONLY", default_value_t = false, global = true, action = clap::ArgAction::Set)]
    pub persisted_only: bool,

    /// Answer requests without a token (read-only); false requires a token for everything.
    #[arg(long, env = "KHCN_HUB_ANONYMOUS_READS", default_value_t = true, global = true, action = clap::ArgAction::Set)]
    pub anonymous_reads: bool,

    /// Serve GraphiQL to browsers at GET /graphql.
    #[arg(long, env = "KHCN_HUB_GRAPHIQL", default_value_t = true, global = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,

    /// Folder of connector definitions (one TOML file per registry).
    #[arg(
        long,
        env = "KHCN_HUB_CONNECTORS",
        default_value = "connectors",
        global = true
    )]
    pub connectors: std::path::PathBuf,

    /// Run connectors on their schedules inside `serve`.
    #[arg(long, env = "KHCN_HUB_SCHEDULES", default_value_t = true, global = true, action = clap::ArgAction::Set)]
    pub schedules: bool,

    /// Folder with the Liberation Serif fonts of PDF reports; when it lacks them, those
    /// of Debian's `fonts-liberation2` are used.
    #[arg(long, env = "KHCN_HUB_REPORT_FONTS", global = true)]
    pub report_fonts: Option<std::path::PathBuf>,

    /// Log filter, in `tracing` EnvFilter syntax (e.g. `info,khcn_hub=debug`).
    #[arg(long, env = "KHCN_HUB_LOG", default_value = "info", global = true)]
    pub log: String,
}

impl Settings {
    /// Settings with every default and the given database, for embedding and tests.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        let mut settings = Cli::parse_from(["khcn-hub"]).settings;
        settings.database_url = database_url.into();
        settings
    }

    pub fn webhooks(&self) -> crate::webhooks::WebhookSettings {
        let defaults = crate::webhooks::WebhookSettings::default();
        crate::webhooks::WebhookSettings {
            allow_private: self.webhook_allow_private,
            timeout: Duration::from_secs(self.webhook_timeout_secs.max(1)),
            retry: crate::domain::webhooks::RetryPolicy {
                base: Duration::from_millis(self.webhook_retry_base_ms.max(1)),
                ..defaults.retry
            },
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_directives: self.max_directives,
            max_body_bytes: self.max_body_bytes,
            max_import_body_bytes: self.max_import_body_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            batch_window: Duration::from_millis(self.batch_window_ms),
            max_aliases: self.max_aliases,
            max_document_chars: self.max_document_chars,
            max_document_tokens: self.max_document_tokens,
            introspection: self.introspection,
            suggestions: self.suggestions,
        }
    }
}

/// A `random_page_cost`: a non-negative number, or empty for the server's own.
fn page_cost(text: &str) -> Result<String, String> {
    match text.trim() {
        "" => Ok(String::new()),
        number => match number.parse::<f64>() {
            Ok(cost) if cost.is_finite() && cost >= 0.0 => Ok(number.to_owned()),
            _ => Err(format!(
                "{text:?} is not a page cost (a number ≥ 0, or empty for the server's setting)"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_means_serve_on_the_default_sqlite_file() {
        let cli = Cli::try_parse_from(["khcn-hub"]).unwrap();
        assert_eq!(cli.command, None);
        assert_eq!(cli.settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.settings.limits(), Limits::default());
    }

    #[test]
    fn flags_set_limits_and_subcommands_parse() {
        let cli = Cli::try_parse_from(["khcn-hub", "--max-depth", "5", "schema"]).unwrap();
        assert_eq!(cli.command, Some(Command::Schema));
        assert_eq!(cli.settings.limits().max_depth, 5);
    }

    #[test]
    fn the_report_fonts_folder_is_optional() {
        let cli = Cli::try_parse_from(["khcn-hub"]).unwrap();
        assert_eq!(cli.settings.report_fonts, None);
        let cli = Cli::try_parse_from(["khcn-hub", "--report-fonts", "/srv/fonts"]).unwrap();
        assert_eq!(
            cli.settings.report_fonts.as_deref(),
            Some(std::path::Path::new("/srv/fonts"))
        );
    }

    #[test]
    fn a_bad_bind_address_is_refused_by_name() {
        let error = Cli::try_parse_from(["khcn-hub", "--bind", "localhost"]).unwrap_err();
        assert!(error.to_string().contains("--bind"), "{error}");
    }

    #[test]
    fn a_page_cost_is_a_number_or_empty_for_the_servers() {
        let cli = Cli::try_parse_from(["khcn-hub"]).unwrap();
        assert_eq!(cli.settings.pg_random_page_cost, "1.1");
        let cli = Cli::try_parse_from(["khcn-hub", "--pg-random-page-cost", ""]).unwrap();
        assert_eq!(cli.settings.pg_random_page_cost, "");
        let error = Cli::try_parse_from(["khcn-hub", "--pg-random-page-cost=-1"]).unwrap_err();
        assert!(error.to_string().contains("not a page cost"), "{error}");
    }
}
