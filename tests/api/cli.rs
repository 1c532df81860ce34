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
