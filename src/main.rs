//! The `khcn-hub` binary: parse flags, set up logging, run a subcommand.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use khcn_hub::app::{self, App};
use khcn_hub::config::{Cli, Command};

// GraphQL resolution allocates many small short-lived values across worker threads;
// mimalloc serves that pattern far better than the system allocator (see README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    khcn_hub::telemetry::init(&cli.settings.log);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "khcn-hub: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = App::build(&settings).await?;
            app.run_until_stopped(app::shutdown_signal()).await?;
        }
        Command::Migrate => {
            app::open_database(&settings).await?;
            tracing::info!("migrations applied");
        }
        Command::Seed { sample } => {
            let db = app::open_database(&settings).await?;
            let outcome = app::seed_plan(&db).await?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{outcome}").context("cannot write to stdout")?;
            if sample {
                let started = std::time::Instant::now();
                let loaded = khcn_hub::sample::load_sample(&db, Default::default()).await?;
                writeln!(out, "{loaded} in {:.1} s", started.elapsed().as_secs_f64())
                    .context("cannot write to stdout")?;
            }
        }
        Command::Schema => {
            let mut out = std::io::stdout().lock();
            write!(out, "{}", khcn_hub::graphql::sdl()).context("cannot write to stdout")?;
        }
    }
    Ok(())
}
