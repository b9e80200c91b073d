//! A function binary refuses to start on a missing setting, with one line naming it
//! (every function shares this start-up; order-webhook stands for all four).

use std::process::Command;

const SETTINGS: &[(&str, &str)] = &[
    // Lambda sets it; without it no AWS call could be made.
    ("AWS_REGION", "eu-west-1"),
    ("STORE_NAME", "Shop"),
    ("SENDER_EMAIL", "orders@shop.example"),
    ("OPERATOR_EMAIL", "ops@shop.example"),
    ("SHOPIFY_WEBHOOK_SECRET_ARN", "dropflow/webhook/shopify"),
    ("TABLE_NAME", "dropflow"),
    ("INTAKE_QUEUE_URL", "http://127.0.0.1:9/queue/intake"),
    ("NOTIFY_QUEUE_URL", "http://127.0.0.1:9/queue/notify"),
    ("STOREFRONT_QUEUE_URL", "http://127.0.0.1:9/queue/storefront"),
];

fn start_without(missing: &str) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_order-webhook"));
    command.env_clear();
    for (name, value) in SETTINGS.iter().filter(|(name, _)| *name != missing) {
        command.env(name, value);
    }
    let output = command.output().expect("run order-webhook");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).trim().to_string())
}

#[test]
fn a_missing_setting_stops_start_up_with_a_line_naming_it() {
    for missing in ["SENDER_EMAIL", "TABLE_NAME", "NOTIFY_QUEUE_URL", "AWS_REGION"] {
        let (code, stderr) = start_without(missing);
        assert_eq!(code, Some(1), "{missing}: {stderr}");
        assert_eq!(stderr, format!("start-up failed: {missing} is not set"));
    }
    // No source's secret at all: every webhook would be refused, so it does not start,
    // naming each source's variable.
    let (code, stderr) = start_without("SHOPIFY_WEBHOOK_SECRET_ARN");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("start-up failed: none of SHOPIFY_WEBHOOK_SECRET_ARN, WOOCOMMERCE_WEBHOOK_SECRET_ARN, GENERIC_WEBHOOK_SECRET_ARN"), "{stderr}");
}
