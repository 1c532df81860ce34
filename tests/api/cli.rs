//! The binary: subcommands, and clear failures that name the problem.

use std::process::{Command, Output};

fn hub(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("KHCN_HUB_LOG", "warn")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn schema_prints_the_served_sdl() {
    let output = hub(&["schema"], "sqlite::memory:");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        khcn_hub::graphql::sdl()
    );
}

#[test]
fn migrate_then_seed_twice_loads_the_plan_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
    let migrate = hub(&["migrate"], &url);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let first = hub(&["seed"], &url);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "loaded plan 136/KH-UBND (26 top-level tasks)"
    );
    let second = hub(&["seed"], &url);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(String::from_utf8_lossy(&second.stdout).contains("already loaded"));
}

#[test]
fn an_unwritable_sqlite_path_fails_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let path = blocker.join("data/hub.db");
    let output = hub(
        &["migrate"],
        &format!("sqlite://{}?mode=rwc", path.display()),
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&blocker.join("data").display().to_string()),
        "{message}"
    );
    assert!(message.contains("cannot create the directory"), "{message}");
}

#[test]
fn an_unreachable_postgres_fails_with_a_message_naming_it() {
    let started = std::time::Instant::now();
    let output = hub(&["serve"], "postgres://hub:secret@127.0.0.1:1/khcn");
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("cannot open the database at postgres://hub:***@127.0.0.1:1/khcn"),
        "{message}"
    );
    assert!(
        !message.contains("secret"),
        "the password must not be printed: {message}"
    );
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn an_unsupported_database_url_is_refused() {
    let output = hub(&["migrate"], "mysql://root@127.0.0.1/x");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("neither sqlite"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn help_documents_the_environment_variables() {
    let output = hub(&["--help"], "sqlite::memory:");
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in ["DATABASE_URL", "KHCN_HUB_BIND", "KHCN_HUB_MAX_DEPTH"] {
        assert!(help.contains(variable), "{variable} missing from --help");
    }
}

/// The sample's OCOP products, startups and links in a database.
async fn sample_counts(url: &str) -> [i64; 3] {
    use sea_orm::{ConnectionTrait, Statement};
    let db = khcn_hub::db::connect(url).await.unwrap();
    let mut counts = [0; 3];
    let queries = [
        "SELECT COUNT(*) AS n FROM ocop_products WHERE source = 'sample'",
        "SELECT COUNT(*) AS n FROM startups WHERE source = 'sample'",
        "SELECT COUNT(*) AS n FROM record_links WHERE linked_by = 'sample'",
    ];
    for (count, sql) in counts.iter_mut().zip(queries) {
        let statement = Statement::from_string(db.get_database_backend(), sql);
        let row = db.query_one_raw(statement).await.unwrap().unwrap();
        *count = row.try_get::<i64>("", "n").unwrap();
    }
    counts
}

#[tokio::test]
async fn seed_sample_scale_two_doubles_the_records_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for scale in ["1", "2"] {
        let path = dir.path().join(format!("scale-{scale}.db"));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        // A small base size keeps the test quick; the copies work the same at any size.
        let args = [
            "seed",
            "--sample",
            "--scale",
            scale,
            "--sample-size",
            "300,100,2000",
        ];
        let output = hub(&args, &url);
        assert!(output.status.success(), "{}", stderr(&output));
        counts.push(sample_counts(&url).await);
    }
    let [ocop, startups, links] = counts[0];
    assert_eq!((ocop, startups), (300, 100));
    assert!(links > 0);
    assert_eq!(counts[1], [2 * ocop, 2 * startups, 2 * links]);
}

/// Loading the sample into PostgreSQL ends with a vacuum: the new rows are marked visible
/// to all (else no scan answers from an index alone) and the search index's pending
/// entries are merged, whether or not autovacuum runs.
#[tokio::test]
async fn seed_sample_leaves_postgres_tables_vacuumed() {
    use crate::helpers::{Backend, TestDatabase};
    use sea_orm::{ConnectionTrait, Statement};

    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let args = ["seed", "--sample", "--sample-size", "300,100,2000"];
    let output = hub(&args, &database.url);
    assert!(output.status.success(), "{}", stderr(&output));
    let db = khcn_hub::db::connect(&database.url).await.unwrap();
    for table in ["ocop_products", "search_entries"] {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT relallvisible::bigint AS visible, relpages::bigint AS pages \
                 FROM pg_class WHERE relname = $1",
                [table.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let visible: i64 = row.try_get("", "visible").unwrap();
        let pages: i64 = row.try_get("", "pages").unwrap();
        assert!(
            pages > 0 && visible == pages,
            "{table}: {visible} of {pages} pages marked all-visible"
        );
    }
    db.close().await.unwrap();
}

#[test]
fn report_writes_the_yearly_report_as_docx_and_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
    let docx = dir.path().join("plan.docx");
    let output = hub(
        &[
            "report",
            "--year",
            "2024",
            "--format",
            "docx",
            "--output",
            docx.to_str().unwrap(),
        ],
        &url,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = std::fs::read(&docx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "a DOCX is a zip package");

    let pdf = dir.path().join("so-khcn.pdf");
    let output = hub(
        &[
            "report",
            "--year",
            "2024",
            "--agency",
            "so-khcn",
            "--format",
            "pdf",
            "--output",
            pdf.to_str().unwrap(),
        ],
        &url,
    );
    if stderr(&output).contains("report fonts missing") {
        return crate::report_render::skip("the Liberation fonts are not installed");
    }
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));

    // An unknown agency is refused, naming it, and no file is left behind.
    let missing = dir.path().join("missing.docx");
    let output = hub(
        &[
            "report",
            "--year",
            "2024",
            "--agency",
            "no-such-agency",
            "--output",
            missing.to_str().unwrap(),
        ],
        &url,
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no-such-agency"),
        "{}",
        stderr(&output)
    );
    assert!(!missing.exists());
    assert!(!dir.path().join("missing.docx.partial").exists());
}
