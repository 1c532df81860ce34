//! Logging, set up once for the binary. Logs go to stderr so `khcn-hub schema` output
//! stays clean.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `filter` uses `tracing` EnvFilter syntax; an invalid
/// filter falls back to `info` and says so.
pub fn init(filter: &str) {
    let (env_filter, invalid) = match EnvFilter::try_new(filter) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new("info"), Some(e)),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .try_init();
    if let Some(error) = invalid {
        tracing::warn!(%error, filter, "invalid log filter; using `info`");
    }
}
