//! The `khcn-hub` binary: parse flags, set up logging, run a subcommand.

#![recursion_limit = "256"]

use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use khcn_hub::app::{self, App};
use khcn_hub::config::{Cli, Command, PersistedCommand, Settings, TokenCommand, WebhookCommand};
use khcn_hub::domain::auth::{Role, parse_lifetime};
use khcn_hub::sample::SampleSize;
use khcn_hub::store::tokens;

// GraphQL resolution allocates many small short-lived values across worker threads;
// mimalloc serves that pattern far better than the system allocator (see README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    keep_heap_in_small_pages();
    let cli = Cli::parse();
    khcn_hub::sync::http::install_crypto_provider();
    let telemetry = khcn_hub::telemetry::init(&cli.settings.log);
    let outcome = run(cli).await;
    telemetry.shutdown().await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "khcn-hub: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// mimalloc asks the kernel for transparent huge pages for its arenas, which rounds each
/// touched part of a heap of a few dozen megabytes up to 2 MiB: at idle the hub held 23.5
/// MiB of anonymous memory, 20 MiB of it huge pages (8.5 MiB without), and its peak under
/// load fell from 80 to 68 MiB without them, at the same speed. The kernel flag is per process (what
/// `MIMALLOC_ALLOW_THP=0` would do), and later faults get small pages.
fn keep_heap_in_small_pages() {
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_thp_disable(true) {
        // An old kernel without the flag only keeps its default; nothing else changes.
        let _ = writeln!(
            std::io::stderr(),
            "khcn-hub: transparent huge pages stay on ({error})"
        );
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Token { action } => token(&settings, action).await?,
        Command::Webhook { action } => webhook(&settings, action).await?,
        Command::Serve => {
            let app = App::build(&settings).await?;
            app.run_until_stopped(app::shutdown_signal()).await?;
        }
        Command::Migrate => {
            app::open_database(&settings).await?;
            tracing::info!("migrations applied");
        }
        Command::Seed {
            sample,
            scale,
            sample_size,
        } => {
            let sample = sample.then(|| (sample_size.unwrap_or_default(), scale));
            seed(&settings, sample).await?;
        }
        Command::Sync { name, all } => sync(&settings, name, all).await?,
        Command::Report {
            year,
            agency,
            format,
            output,
        } => report(&settings, year, agency.as_deref(), format, &output).await?,
        Command::Persisted {
            action: PersistedCommand::Add { files },
        } => {
            let db = app::open_database(&settings).await?;
            let mut out = std::io::stdout().lock();
            for file in files {
                let document = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                // A document that does not parse would only ever fail: refuse it here.
                async_graphql::parser::parse_query(&document)
                    .with_context(|| format!("{} is not a GraphQL document", file.display()))?;
                let hash = khcn_hub::store::persisted::save(&db, &document, true).await?;
                writeln!(out, "{hash}  {}", file.display()).context("cannot write to stdout")?;
            }
        }
        Command::Schema => {
            let mut out = std::io::stdout().lock();
            write!(out, "{}", khcn_hub::graphql::sdl()).context("cannot write to stdout")?;
        }
    }
    Ok(())
}

/// `khcn-hub token create|list|revoke`.
async fn token(settings: &Settings, action: TokenCommand) -> anyhow::Result<()> {
    let db = app::open_database(settings).await?;
    let mut out = std::io::stdout().lock();
    match action {
        TokenCommand::Create {
            agency,
            role,
            expires,
            label,
        } => {
            let role = Role::parse(&role)?;
            let lifetime = expires.as_deref().map(parse_lifetime).transpose()?;
            let created =
                tokens::create_token(&db, role, agency.as_deref(), lifetime, label).await?;
            let expiry = created
                .record
                .expires_at
                .map_or_else(|| "never".to_owned(), |at| at.to_rfc3339());
            writeln!(
                out,
                "token {} ({role}{}), expires {expiry}; it is shown only now:",
                created.id,
                agency.map(|a| format!(" for {a}")).unwrap_or_default()
            )?;
            writeln!(out, "{}", created.token)?;
        }
        TokenCommand::List => {
            writeln!(out, "id\tprefix\trole\tagency_id\texpires\trevoked\tlabel")?;
            for token in tokens::list_tokens(&db).await? {
                writeln!(
                    out,
                    "{}\t{}…\t{}\t{}\t{}\t{}\t{}",
                    token.id,
                    token.prefix,
                    token.role,
                    token.agency_id.map(|a| a.to_string()).unwrap_or_default(),
                    token.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    token.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    token.label.unwrap_or_default()
                )?;
            }
        }
        TokenCommand::Revoke { id } => {
            if !tokens::revoke_token(&db, id).await? {
                anyhow::bail!("there is no token {id}");
            }
            writeln!(out, "token {id} revoked")?;
        }
    }
    Ok(())
}

/// `khcn-hub webhook create|list|delete`.
async fn webhook(settings: &Settings, action: WebhookCommand) -> anyhow::Result<()> {
    use khcn_hub::store::webhooks as store;
    let db = app::open_database(settings).await?;
    let mut out = std::io::stdout().lock();
    match action {
        WebhookCommand::Create {
            url,
            events,
            kinds,
            agency,
            description,
        } => {
            let events = khcn_hub::domain::webhooks::parse_events(&events)?;
            let kinds = kinds
                .iter()
                .map(|k| khcn_hub::domain::records::RecordKind::parse(k.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            khcn_hub::webhooks::check_target(&url, settings.webhook_allow_private).await?;
            let owner_agency_id = match &agency {
                Some(code) => Some(store::agency_id(&db, code).await?),
                None => None,
            };
            let created = store::create(
                &db,
                store::NewWebhook {
                    url,
                    description,
                    events,
                    kinds,
                    owner_agency_id,
                    created_by: "cli".into(),
                },
                chrono::Utc::now().fixed_offset(),
            )
            .await?;
            writeln!(out, "webhook {} created; its signing secret:", created.id)?;
            writeln!(out, "{}", created.secret)?;
        }
        WebhookCommand::List => {
            writeln!(
                out,
                "id\turl\tevents\tkinds\tagency_id\tenabled\tdisabled_reason"
            )?;
            for webhook in store::list(&db, None).await? {
                let interest = store::interest(&webhook);
                let events: Vec<&str> = interest.events.iter().map(|e| e.as_str()).collect();
                let kinds: Vec<&str> = interest.kinds.iter().map(|k| k.as_str()).collect();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    webhook.id,
                    webhook.url,
                    events.join(","),
                    kinds.join(","),
                    webhook
                        .owner_agency_id
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    webhook.enabled,
                    webhook.disabled_reason.unwrap_or_default()
                )?;
            }
        }
        WebhookCommand::Delete { id } => {
            if !store::delete(&db, id).await? {
                anyhow::bail!("there is no webhook {id}");
            }
            writeln!(out, "webhook {id} deleted")?;
        }
    }
    Ok(())
}

/// `khcn-hub seed [--sample [--scale N]]`.
async fn seed(
    settings: &Settings,
    sample: Option<(SampleSize, NonZeroUsize)>,
) -> anyhow::Result<()> {
    let db = app::open_database(settings).await?;
    let outcome = app::seed_plan(&db).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{outcome}").context("cannot write to stdout")?;
    if let Some((size, scale)) = sample {
        let started = std::time::Instant::now();
        let loaded = khcn_hub::sample::load_scaled_sample(&db, size, scale).await?;
        writeln!(out, "{loaded} in {:.1} s", started.elapsed().as_secs_f64())
            .context("cannot write to stdout")?;
    }
    Ok(())
}

/// `khcn-hub report --year Y [--agency CODE] --format docx|pdf --output FILE`.
async fn report(
    settings: &Settings,
    year: i32,
    agency: Option<&str>,
    format: khcn_hub::report::Format,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let db = app::open_database(settings).await?;
    app::seed_plan(&db).await?;
    let feed = khcn_hub::store::feed::ChangeFeed::new();
    let connectors = app::load_connectors(settings, &db, &feed)?;
    let schema = khcn_hub::graphql::build_schema(
        db,
        &settings.limits(),
        feed,
        connectors,
        settings.webhooks(),
    );
    // The operator at the console reads as an administrator.
    let caller = khcn_hub::domain::auth::Caller::Token {
        token_id: 0,
        role: Role::Admin,
        agency_id: None,
        agency_code: None,
    };
    let document = khcn_hub::graphql::report::yearly_report(&schema, &caller, year, agency).await?;
    let bytes = tokio::task::spawn_blocking({
        let fonts = khcn_hub::report::ReportFonts::new(settings.report_fonts.clone());
        move || format.render(&document, &fonts)
    })
    .await
    .context("rendering the report stopped")??;
    // Written beside the target and renamed, so a failed run leaves no half file.
    let partial = output.with_extension(format!("{}.partial", format.extension()));
    std::fs::write(&partial, &bytes)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "wrote {} ({} bytes)", output.display(), bytes.len())
        .context("cannot write to stdout")?;
    Ok(())
}

/// `khcn-hub sync <name>|--all`: fails when any run failed.
async fn sync(settings: &Settings, name: Option<String>, all: bool) -> anyhow::Result<()> {
    let db = app::open_database(settings).await?;
    app::seed_plan(&db).await?;
    let feed = khcn_hub::store::feed::ChangeFeed::new();
    let connectors = app::load_connectors(settings, &db, &feed)?;
    let names: Vec<String> = match name {
        Some(name) => vec![name],
        None if all => connectors
            .definitions
            .iter()
            .filter(|d| d.disabled_reason().is_none())
            .map(|d| d.name.clone())
            .collect(),
        None => anyhow::bail!("name a connector, or pass --all"),
    };
    if names.is_empty() {
        anyhow::bail!(
            "no connector is enabled in {}",
            settings.connectors.display()
        );
    }
    let outcomes =
        khcn_hub::sync::cli::run(&connectors, &names, std::io::stderr().is_terminal()).await;
    let mut out = std::io::stdout().lock();
    khcn_hub::sync::cli::summary(&outcomes, &mut out).context("cannot write to stdout")?;
    let failed = outcomes
        .iter()
        .filter(|o| !matches!(&o.result, Ok(r) if r.succeeded))
        .count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} connector run(s) failed", outcomes.len());
    }
    Ok(())
}
