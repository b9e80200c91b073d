//! The `dropflow` binary as an operator uses it: output on stdout, one-line errors and a
//! non-zero exit on stderr.

use std::process::{Command, Output};

fn dropflow(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dropflow")).arg("--data-dir").arg(data_dir).args(args).output().expect("run dropflow")
}

#[test]
fn onboarding_prints_a_key_once_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let added = dropflow(dir.path(), &["vendor", "add", "acme", "--name", "Acme", "--email", "ops@acme.example"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let key = dropflow(dir.path(), &["key", "create", "acme"]);
    let stdout = String::from_utf8(key.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("dfk_") && stdout.trim().len() == 52, "{stdout}");
}

#[test]
fn a_bad_argument_is_one_clear_line_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dropflow(dir.path(), &["vendor", "add", "acme", "--name", "Acme", "--email", "not-an-email"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8(bad.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("email") && stderr.contains("not-an-email"), "{stderr}");
    let unknown = dropflow(dir.path(), &["key", "create", "nobody"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no vendor nobody"));
}

#[test]
fn the_demo_plays_an_order_to_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dropflow(dir.path(), &["demo"]);
    let stdout = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&demo.stderr));
    assert!(stdout.contains("history: created -> supplier_order_placed -> shipped -> delivered"), "{stdout}");
    assert!(stdout.contains("has shipped") && stdout.contains("was delivered"), "{stdout}");
}
