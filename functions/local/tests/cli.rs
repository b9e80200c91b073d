//! The `dropflow` binary as an operator uses it: output on stdout, one-line errors and a
//! non-zero exit on stderr; and `serve --backend aws` on moto, its consumers polling
//! the queues as the event source mappings do.

mod common;

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
    for bad in [
        &["vendor", "add", "acme", "--name", "Acme", "--email", "a@b.example", "--commission-bps", "-5"][..],
        &["vendor", "add", "acme", "--name", "Acme", "--email", "a@b.example", "--commission-bps", "ten"],
        &["vendor", "add"],
        &["vendor", "frobnicate"],
    ] {
        let output = dropflow(dir.path(), bad);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success() && stderr.trim().lines().count() == 1, "{bad:?}: {stderr}");
    }
    let unknown = dropflow(dir.path(), &["key", "create", "nobody"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no vendor nobody"));
}

#[test]
fn a_missing_argument_is_named_and_a_read_of_no_data_dir_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dropflow(dir.path(), &["vendor", "add", "acme"]);
    let stderr = String::from_utf8(missing.stderr).unwrap();
    assert!(!missing.status.success() && stderr.trim().lines().count() == 1, "{stderr}");
    assert!(stderr.contains("--name <NAME>") && stderr.contains("--email <EMAIL>"), "the line names what is missing: {stderr}");
    let nowhere = dir.path().join("typo");
    let read = dropflow(&nowhere, &["orders"]);
    let stderr = String::from_utf8(read.stderr).unwrap();
    assert!(!read.status.success() && stderr.trim().lines().count() == 1 && stderr.contains("no dropflow data"), "{stderr}");
    assert!(!nowhere.exists(), "no empty store is made where nothing was");
    let help = String::from_utf8(dropflow(dir.path(), &["--help"]).stdout).unwrap();
    assert!(help.contains("With no command, dropflow runs `serve`"), "{help}");
}

#[test]
fn the_demo_plays_a_whole_life_on_its_data_dir_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let demo = dropflow(&data, &["demo"]);
    let stdout = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&demo.stderr));
    assert!(stdout.contains("history: created -> supplier_order_placed -> refunded -> shipped -> delivered"), "{stdout}");
    for said in ["has shipped", "was delivered", "the customer was refunded 12.45 EUR", "Earnings released: 47.11 EUR", "paid, reference SEPA-DEMO-0001"] {
        assert!(stdout.contains(said), "{said} missing from {stdout}");
    }
    let mail = std::fs::read_dir(data.join("outbox")).unwrap().count();
    assert!(stdout.contains(&format!("{}/outbox", data.display())) && mail >= 8, "the data dir and its mail are kept ({mail} mails): {stdout}");
    let shown = dropflow(&data, &["order", "show", "#9001"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("(lumen-home): delivered"), "the demo's order is there to look at");
    let again = dropflow(&data, &["demo"]);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && said.contains("holds dropflow data") && said.trim().lines().count() == 1, "{said}");
}

/// The moto server `scripts/test.sh` started (never a real account; never skipped).
fn emulator() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is not set: the AWS backend tests run against moto, which `bash scripts/test.sh` starts")
}

/// Runs `dropflow --backend aws --stack <stack>` with `sender` as the SES sender, keeping
/// its stream checkpoint in a data dir of the test's own (never in the source tree).
fn dropflow_aws(stack: &str, sender: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_dropflow"))
        .args(["--backend", "aws", "--stack", stack])
        .arg("--data-dir")
        .arg(aws_data_dir(stack))
        .args(args)
        .env("SENDER_EMAIL", sender)
        .output()
        .expect("run dropflow");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The data dir of an AWS-backend run of `stack`: under the system's temp dir.
fn aws_data_dir(stack: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("dropflow-test-{stack}"))
}

/// Stops the server even when an assertion fails.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_on_the_aws_backend_takes_a_webhook_to_mail_in_ses() {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let endpoint = emulator();
    let stack = format!("cli-{}", std::process::id());
    let sender = format!("orders-{stack}@dropflow.test");
    let resources = dropflow_aws(&stack, &sender, &["aws", "bootstrap"]);
    assert!(resources.contains(&format!("TABLE_NAME={stack}")) && resources.contains(&format!("{stack}-intake")), "{resources}");
    assert_eq!(dropflow_aws(&stack, &sender, &["aws", "bootstrap"]), resources, "bootstrapping again changes nothing");
    dropflow_aws(&stack, &sender, &["vendor", "add", "ipod-shop", "--name", "iPod Shop", "--email", "orders@ipod-shop.example"]);
    dropflow_aws(&stack, &sender, &common::product_add("IPOD2008GREEN", "ipod-shop"));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_dropflow"))
            .args(["--backend", "aws", "--stack", &stack, "serve", "--port", &port.to_string()])
            .arg("--data-dir")
            .arg(aws_data_dir(&stack))
            .env("SENDER_EMAIL", &sender)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start serve"),
    );
    let client = reqwest::Client::new();
    let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/shopify/orders-create-paid.json")).expect("fixture");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"dropflow-local-shopify-secret").unwrap();
    mac.update(&body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let mut accepted = None;
    for _ in 0..100 {
        let sent = client
            .post(format!("http://127.0.0.1:{port}/webhooks/shopify"))
            .header("X-Shopify-Hmac-Sha256", &signature)
            .header("X-Shopify-Topic", "orders/paid")
            .header("X-Shopify-Shop-Domain", "cli.myshopify.com")
            .body(body.clone())
            .send()
            .await;
        if let Ok(response) = sent {
            accepted = Some(response.status().as_u16());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(accepted, Some(200), "the server answers the webhook");

    // The consumers poll the queues on their own: intake routes, the notifier mails.
    let mut subjects = Vec::new();
    for _ in 0..100 {
        // moto now and then answers an error page while another request changes its state.
        let data = match reqwest::get(format!("{endpoint}/moto-api/data.json?service=ses")).await {
            Ok(response) => response.json::<serde_json::Value>().await.ok(),
            Err(_) => None,
        };
        if let Some(data) = data {
            let mail = data["ses"]["Message"].as_array().cloned().unwrap_or_default();
            let ours = mail.iter().filter(|m| m["source"].as_str().is_some_and(|source| source.ends_with(&format!("<{sender}>"))));
            subjects = ours.map(|m| m["subject"].as_str().unwrap_or_default().to_string()).collect();
            if subjects.len() >= 3 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    subjects.sort();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(subjects.iter().any(|s| s.starts_with("New order #1001")), "{subjects:?}");
    assert!(subjects.iter().any(|s| s.contains("#1001 confirmed")), "{subjects:?}");
    assert!(subjects.iter().any(|s| s.contains("no vendor sells")), "{subjects:?}");
}
