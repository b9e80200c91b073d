//! The storefront-sync binary in a Lambda-like run: one SQS batch of the storefront
//! queue (what the relay sent there of a real order's life) from a local Runtime API,
//! its real clients on the moto stack of `scripts/test.sh`, the Shopify stand-in. The
//! vendor's parcel becomes one fulfillment, once even when the batch comes twice; the
//! notify queue's share of the same events stays the notifier's.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::fixture;
use dropflow_scenarios::runtime_api::{function_env, invoke_once, sqs_batch};
use dropflow_shared::domain::ids::{OrderId, SupplierOrderRef, VendorId};
use dropflow_shared::domain::tracking::TrackingNumber;
use dropflow_shared::domain::vendor_order::Command;
use dropflow_shared::handlers::{consume, sqs_event};
use dropflow_shared::ports::QueueName;
use dropflow_shared::services::operator::{ProductInput, add_product, add_vendor};
use dropflow_shared::services::relay::relay_from;
use dropflow_shared::services::vendor::{Preconditions, act};
use std::path::Path;
use std::time::Duration;

const SHOP: &str = "lambda.myshopify.com";

#[tokio::test]
async fn a_shipped_parcel_is_one_fulfillment_even_when_its_batch_comes_twice() {
    let stack = AwsStack::create(None).await;
    let (app, queues) = stack.open().await;
    let (endpoint, shop) = dropflow_scenarios::shopify_admin::start(SHOP).await;
    shop.lock().unwrap().add_order("450789469", &[("466157049", 1), ("518995019", 1), ("703073504", 1)]);
    add_vendor(&app, "lamp-co", "Lamp Co", "lamp@vendors.example", None, None).await.unwrap();
    for sku in ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"] {
        let input = ProductInput {
            sku,
            vendor_id: "lamp-co",
            supplier_name: "S",
            product_url: "https://s.example/1",
            cost: "10.00",
            currency: "USD",
            variant: None,
            force: false,
            automation: Default::default(),
        };
        add_product(&app, input).await.unwrap();
    }
    // Intake (in process) routes the order; the vendor places and ships it.
    let order = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let message = serde_json::json!({"source": "shopify", "topic": "orders/paid", "shop": SHOP, "delivery_id": "d-1", "body": order});
    app.publisher.publish(QueueName::Intake, message.to_string()).await.unwrap();
    let intake = queues.receive(QueueName::Intake, 10, Duration::from_secs(1)).await.unwrap();
    assert!(consume(&app, QueueName::Intake, sqs_event(&intake)).await.batch_item_failures.is_empty());
    let id = OrderId::derive("shopify", "", "450789469").to_string();
    let vendor = VendorId::parse("lamp-co").unwrap();
    let none = Preconditions { if_match: None, idempotency: None };
    act(&app, &vendor, &id, Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("AE-1").unwrap(), lines: None }, &none).await.unwrap();
    let parcel = TrackingNumber::parse("1Z5R89390357567127", None).unwrap();
    act(&app, &vendor, &id, Command::Ship { tracking: parcel, lines: None }, &none).await.unwrap();
    let feed = stack.feed().await;
    while relay_from(&app, &feed, 100).await.unwrap() > 0 {}
    let mut events = Vec::new();
    for _ in 0..5 {
        events.extend(queues.receive(QueueName::Storefront, 10, Duration::from_secs(1)).await.unwrap().into_iter().map(|m| m.body));
    }
    assert!(events.iter().any(|e| e.contains("\"shipped\"")), "the relay sent the shipment to the storefront queue: {events:?}");
    assert!(events.iter().any(|e| e.contains("\"order_accepted\"")), "the accepted order too (its status link): {events:?}");
    assert!(events.iter().all(|e| !e.contains("\"vendor_order_created\"")), "and only what a storefront is told of");

    let mut env = function_env(&stack);
    env.push(("SHOPIFY_ADMIN_TOKENS".into(), format!("{SHOP}={}", dropflow_scenarios::shopify_admin::TOKEN)));
    env.push(("SHOPIFY_ADMIN_ENDPOINT".into(), endpoint));
    let binary = Path::new(env!("CARGO_BIN_EXE_storefront-sync"));
    for _ in 0..2 {
        let (kind, answer) = invoke_once(binary, &env, sqs_batch(&events)).await;
        assert_eq!((kind.as_str(), &answer["batchItemFailures"]), ("response", &serde_json::json!([])), "{answer}");
    }
    let shop = shop.lock().unwrap();
    assert!(shop.refused.is_empty(), "{:?}", shop.refused);
    assert_eq!((shop.fulfillments("450789469").len(), shop.creates), (1, 1), "one fulfillment of the parcel");
}
