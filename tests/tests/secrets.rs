//! Webhook secrets in Secrets Manager (moto): `dropflow aws bootstrap` stores each
//! source's secret, the process reads it at start; after a rotation the new secret
//! verifies at once (the process reads the secret again when a signature fails), the
//! old one for the grace period, then only the new one.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, fixture, sign, spawn_app};
use dropflow_shared::adapters::aws::{SecretsManagerVault, sdk_config, webhook_secret_name};
use dropflow_shared::ports::FixedClock;
use dropflow_shared::services::secrets::{ROTATION_GRACE_HOURS, WebhookSecrets};
use dropflow_shared::services::webhook::{self, Accepted, Delivery};
use dropflow_shared::services::{App, ServiceError};
use std::collections::BTreeMap;
use std::sync::Arc;

fn delivery(secret: &str, n: u64) -> Delivery {
    let mut order: serde_json::Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["id"] = serde_json::json!(7_000 + n);
    let body = serde_json::to_vec(&order).unwrap();
    let source = dropflow_shared::sources::SOURCES.iter().copied().find(|s| s.name() == "shopify").unwrap();
    Delivery { source, signature: Some(sign(secret, &body)), topic: "orders/paid".into(), shop: "rotation.myshopify.com".into(), delivery_id: None, body }
}

async fn accepts(app: &App, secret: &str, n: u64) -> bool {
    match webhook::accept(app, delivery(secret, n)).await {
        Ok(Accepted::Queued) => true,
        Err(ServiceError::Unauthorized) => false,
        other => panic!("{:?}", other.map(|_| ()).err()),
    }
}

#[tokio::test]
async fn a_rotated_webhook_secret_verifies_at_once_and_the_old_one_only_for_the_grace_period() {
    let app = spawn_app(Backend::Aws).await;
    let stack = app.stack().expect("an AWS stack").to_string();
    let sdk = sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = webhook_secret_name(&stack, "shopify");
    let stored = client.get_secret_value().secret_id(&name).send().await.expect("bootstrap stored the secret");
    assert_eq!(stored.secret_string(), Some(SHOPIFY_SECRET));

    let vault = Arc::new(SecretsManagerVault::new(&sdk));
    let secrets =
        WebhookSecrets::from_vault(vault, BTreeMap::from([("shopify", name.clone())]), &BTreeMap::new()).await.unwrap().reread_after(std::time::Duration::ZERO);
    let now = dropflow_scenarios::runtime_api::wall_clock();
    let clock = Arc::new(FixedClock::at(now));
    let service = App { secrets: Arc::new(secrets), clock: clock.clone(), ..app.local.app.clone() };
    assert!(accepts(&service, SHOPIFY_SECRET, 1).await);
    assert!(!accepts(&service, "rotated-secret", 2).await, "not the secret yet");

    client.put_secret_value().secret_id(&name).secret_string("rotated-secret").send().await.unwrap();
    assert!(accepts(&service, "rotated-secret", 3).await, "the new secret, read again on the first failure");
    assert!(accepts(&service, SHOPIFY_SECRET, 4).await, "deliveries signed before the switch still verify");
    assert!(!accepts(&service, "forged", 5).await);

    clock.set(now + chrono::Duration::hours(ROTATION_GRACE_HOURS + 1));
    assert!(!accepts(&service, SHOPIFY_SECRET, 6).await, "the grace is over");
    assert!(accepts(&service, "rotated-secret", 7).await);
}

#[tokio::test]
async fn the_process_on_a_stack_verifies_with_the_stacks_secret_not_the_environments() {
    let app = spawn_app(Backend::Aws).await;
    let stack = app.stack().expect("an AWS stack").to_string();
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config().await);
    // Two rotations: the configured secret (the first stored) is neither current nor
    // previous any more.
    for value in ["second", "only-in-the-vault"] {
        client.put_secret_value().secret_id(webhook_secret_name(&stack, "shopify")).secret_string(value).send().await.unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let reopened = dropflow_local::Local::open_aws(
        &stack,
        dropflow_shared::compose::Settings::new(dropflow_scenarios::backend::config("orders@stack.example")),
        data.path(),
    )
    .await
    .unwrap();
    assert!(accepts(&reopened.app, "only-in-the-vault", 1).await, "read from Secrets Manager");
    assert!(accepts(&reopened.app, "second", 2).await, "the one it replaced, within the grace");
    assert!(!accepts(&reopened.app, SHOPIFY_SECRET, 3).await, "the environment's secret does not override the stack's");
}
