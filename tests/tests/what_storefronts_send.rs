//! What storefronts really send, beyond their documentation's examples: WooCommerce's
//! id-only delete, a cancel stamped in the same second as the payment, refunds that come
//! before their order is routed, negative and unreadable refund amounts. Each one lost an
//! order, paid for a refunded item or told someone something false; dropflow-sim
//! generates each of them too.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, WOOCOMMERCE_SECRET, fixture, on_both_backends, spawn_app, spawn_app_configured};
use reqwest::Method;
use serde_json::{Value, json};

const WOO_ORDER: &str = "woocommerce/order-processing.json";

async fn woo_vendor(app: &TestApp) -> String {
    app.onboard("woo-vendor", &["Bar3"]).await
}

async fn orders_of(app: &TestApp, key: &str) -> Vec<Value> {
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", key, None).await;
    list["orders"].as_array().unwrap().clone()
}

async fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    app.outbox().await.iter().filter(|m| m["to"] == to).map(|m| m["subject"].as_str().unwrap_or_default().to_string()).collect()
}

/// WooCommerce sends `{"id": N}` for a deleted order (and disables a webhook after five
/// failed deliveries): it cancels the order of that id that the sending site filed, once;
/// an id dropflow does not hold, or another site's, is acknowledged and changes nothing.
async fn a_woocommerce_delete_of_just_an_id_cancels_that_sites_order_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = woo_vendor(&app).await;
    assert_eq!(app.woocommerce_webhook("order.created", &fixture(WOO_ORDER), WOOCOMMERCE_SECRET).await.status(), 200);
    assert_eq!(orders_of(&app, &key).await[0]["state"], "awaiting_supplier");
    let deleted = br#"{"id": 727}"#;

    let elsewhere = app.woocommerce_webhook_from("https://other.example/", "order.deleted", deleted, WOOCOMMERCE_SECRET).await;
    assert_eq!(elsewhere.status(), 200);
    assert_eq!(orders_of(&app, &key).await[0]["state"], "awaiting_supplier", "order 727 of another site is another order");
    let unknown = app.woocommerce_webhook("order.deleted", br#"{"id": 99999}"#, WOOCOMMERCE_SECRET).await;
    assert_eq!(unknown.status(), 200, "an unknown id is acknowledged, so WooCommerce keeps the webhook on");
    for _ in 0..2 {
        assert_eq!(app.woocommerce_webhook("order.deleted", deleted, WOOCOMMERCE_SECRET).await.status(), 200);
    }

    let orders = orders_of(&app, &key).await;
    assert_eq!((orders.len(), orders[0]["state"].as_str()), (1, Some("cancelled")), "{orders:?}");
    let cancels: Vec<String> = mails_to(&app, "woo-vendor@vendors.example").await.into_iter().filter(|s| s.to_lowercase().contains("cancel")).collect();
    assert_eq!(cancels.len(), 1, "the vendor is told once: {cancels:?}");
    let filed = dropflow_shared::services::operator::find_orders(&app.local.app, "99999").await.unwrap();
    assert!(filed.is_empty(), "a delete never files an order");
}

/// With `site=secret` pairs the secret that verified a delete names its site, whatever
/// the unsigned header claims.
async fn with_a_secret_per_site_the_verifying_secret_names_the_site_of_a_delete(backend: Backend) {
    let secrets = "example.com=secret-of-example,other.example=secret-of-other";
    let app = spawn_app_configured(backend, None, &[("WOOCOMMERCE_WEBHOOK_SECRET", secrets)]).await;
    let key = woo_vendor(&app).await;
    assert_eq!(app.woocommerce_webhook("order.created", &fixture(WOO_ORDER), "secret-of-example").await.status(), 200);
    assert_eq!(orders_of(&app, &key).await.len(), 1);

    // The other site's secret, with a header claiming to be example.com: refused.
    let claimed = app.woocommerce_webhook("order.deleted", br#"{"id": 727}"#, "secret-of-other").await;
    assert_eq!(claimed.status(), 401);
    // The other site, as itself: its own order 727, which dropflow does not hold.
    let other = app.woocommerce_webhook_from("https://other.example/", "order.deleted", br#"{"id": 727}"#, "secret-of-other").await;
    assert_eq!(other.status(), 200);
    assert_eq!(orders_of(&app, &key).await[0]["state"], "awaiting_supplier");

    assert_eq!(app.woocommerce_webhook("order.deleted", br#"{"id": 727}"#, "secret-of-example").await.status(), 200);
    assert_eq!(orders_of(&app, &key).await[0]["state"], "cancelled");
}

/// A block checkout's draft may already carry a payment date: it is still a draft.
async fn a_checkout_draft_with_a_paid_date_is_held(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = woo_vendor(&app).await;
    let mut draft: Value = serde_json::from_slice(&fixture(WOO_ORDER)).unwrap();
    draft["status"] = json!("checkout-draft");
    app.woocommerce_webhook("order.created", &serde_json::to_vec(&draft).unwrap(), WOOCOMMERCE_SECRET).await;
    assert!(orders_of(&app, &key).await.is_empty());
}

/// The paid Shopify fixture at `updated_at`, changed by `change`.
fn shopify(updated_at: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["updated_at"] = json!(updated_at);
    change(&mut order);
    serde_json::to_vec(&order).unwrap()
}

fn cancelled_at(updated_at: &str) -> Vec<u8> {
    shopify(updated_at, |o| {
        o["cancelled_at"] = json!(updated_at);
        o["financial_status"] = json!("voided");
    })
}

/// Storefronts stamp whole seconds, and a fraud or stock check cancels in the second the
/// payment came: the cancel wins whichever of the two arrives first.
async fn a_cancel_stamped_in_the_second_of_the_payment_cancels_in_either_order(backend: Backend) {
    for cancel_first in [false, true] {
        let app = spawn_app(backend).await;
        let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
        let second = "2026-11-20T10:00:00-05:00";
        let (paid, cancelled) = (shopify(second, |_| {}), cancelled_at(second));
        let deliveries =
            if cancel_first { [("orders/cancelled", &cancelled), ("orders/paid", &paid)] } else { [("orders/paid", &paid), ("orders/cancelled", &cancelled)] };
        for (topic, body) in deliveries {
            assert_eq!(app.shopify_webhook(topic, body, SHOPIFY_SECRET).await.status(), 200);
        }
        let orders = orders_of(&app, &key).await;
        assert!(orders.iter().all(|o| o["state"] == "cancelled"), "cancel first: {cancel_first}: {orders:?}");
        // The same paid delivery again, later (Shopify retries with the original body).
        app.shopify_webhook("orders/paid", &paid, SHOPIFY_SECRET).await;
        assert!(orders_of(&app, &key).await.iter().all(|o| o["state"] == "cancelled"), "a retry of the payment does not undo the cancel");
    }
}

const GREEN: &str = "466157049";
const RED: &str = "518995019";
const BLACK: &str = "703073504";

fn shopify_refund(id: u64, lines: &[(&str, Value)]) -> Vec<u8> {
    let items: Vec<Value> =
        lines.iter().map(|(line, subtotal)| json!({"line_item_id": line.parse::<u64>().unwrap(), "quantity": 1, "subtotal": subtotal})).collect();
    serde_json::to_vec(&json!({"id": id, "order_id": 450789469, "refund_line_items": items})).unwrap()
}

fn order_id() -> dropflow_shared::domain::ids::OrderId {
    dropflow_shared::domain::ids::OrderId::derive("shopify", "", "450789469")
}

/// The one vendor order of `key`'s vendor, whole.
async fn the_vendor_order(app: &TestApp, key: &str) -> Value {
    let orders = orders_of(app, key).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    app.vendor(Method::GET, &format!("/vendor/orders/{}", orders[0]["id"].as_str().unwrap()), key, None).await.1
}

fn refunded(order: &Value) -> Vec<(String, String)> {
    order["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line_id"].as_str().unwrap().to_string(), r["amount"]["amount"].as_str().unwrap().to_string()))
        .collect()
}

async fn operator_mails(app: &TestApp, about: &str) -> usize {
    mails_to(app, "ops@market.example").await.iter().filter(|s| s.contains(about)).count()
}

/// Shopify does not order its webhooks: a refund of a pending order's lines comes before
/// the payment. It is kept on the order and goes with its line when the order is routed;
/// a line refunded in full is not routed at all, and nobody is asked to find it a vendor.
async fn a_refund_before_the_payment_goes_with_its_line_and_a_line_refunded_in_full_is_not_routed(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    app.shopify_webhook("orders/create", &shopify("2026-11-20T10:00:00-05:00", |o| o["financial_status"] = json!("pending")), SHOPIFY_SECRET).await;
    let refund = shopify_refund(1, &[(RED, json!("50.00")), (BLACK, json!("199.00"))]);
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("refunds/create", &refund, SHOPIFY_SECRET).await.status(), 200);
    }
    app.shopify_webhook("orders/paid", &shopify("2026-11-20T10:05:00-05:00", |_| {}), SHOPIFY_SECRET).await;

    let order = the_vendor_order(&app, &key).await;
    assert_eq!(refunded(&order), [(RED.to_string(), "50.00".to_string())], "{order}");
    assert_eq!(order["economics"]["customer_paid"]["amount"], "348.00", "199.00 + 199.00 - 50.00");
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    assert!(record.unroutable.is_empty(), "the black iPod was refunded in full: nothing to route: {:?}", record.unroutable);
    assert_eq!(operator_mails(&app, "lines no vendor sells").await, 0, "nobody is asked to find it a vendor");
    // Mapping its SKU later changes nothing either.
    app.onboard("black-gear", &["IPOD2008BLACK"]).await;
    assert_eq!(app.local.app.tables.vendor_orders_of(&order_id()).await.unwrap().len(), 1);
}

/// The unroutable-line mail tells the operator to refund a line no vendor sells: that
/// refund goes with the line when its SKU is mapped after all.
async fn a_refund_of_a_waiting_line_goes_with_it_when_its_sku_is_mapped(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    app.shopify_webhook("orders/paid", &shopify("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    app.shopify_webhook("refunds/create", &shopify_refund(2, &[(BLACK, json!("20.00"))]), SHOPIFY_SECRET).await;
    let black = app.onboard("black-gear", &["IPOD2008BLACK"]).await;
    let order = the_vendor_order(&app, &black).await;
    assert_eq!(refunded(&order), [(BLACK.to_string(), "20.00".to_string())], "{order}");
    assert_eq!(order["economics"]["customer_paid"]["amount"], "179.00");
}

/// A refund amount is at least zero and at most what is left on its line: a negative
/// one (Shopify `subtotal: "-400.00"`, the generic JSON's `"-400.00"`) or one over the
/// line is kept for the operator, never applied, so it can never raise earnings.
async fn a_negative_or_too_large_refund_is_kept_for_the_operator_and_never_applied(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &shopify("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    for _ in 0..2 {
        app.shopify_webhook("refunds/create", &shopify_refund(3, &[(RED, json!("-400.00"))]), SHOPIFY_SECRET).await;
        app.shopify_webhook("refunds/create", &shopify_refund(4, &[(GREEN, json!("500.00"))]), SHOPIFY_SECRET).await;
    }
    app.shopify_webhook("refunds/create", &shopify_refund(5, &[(GREEN, json!("199.00"))]), SHOPIFY_SECRET).await;
    app.shopify_webhook("refunds/create", &shopify_refund(6, &[(GREEN, json!("0.01"))]), SHOPIFY_SECRET).await;

    let order = the_vendor_order(&app, &key).await;
    assert_eq!(refunded(&order), [(GREEN.to_string(), "199.00".to_string())], "only the refund that fits: {order}");
    assert_eq!(order["economics"]["customer_paid"]["amount"], "398.00");
    assert_eq!(operator_mails(&app, "a refund could not be applied").await, 3, "refunds 3, 4 and 6, once each");
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    let kept: Vec<&str> = record.unassigned_refunds.iter().map(|r| r.refund_id.as_str()).collect();
    assert_eq!(kept, ["3", "4", "6"]);
    assert!(record.unassigned_refunds[0].reason.contains("negative"), "{:?}", record.unassigned_refunds[0]);
}

/// One refund listing an unreadable amount ("12,50") beside a readable one: the readable
/// line is recorded, the other kept for the operator; the message is never parked whole.
async fn an_unreadable_refund_line_does_not_lose_the_readable_ones_delivered_with_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &shopify("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    let refund = shopify_refund(7, &[(RED, json!("12,50")), (GREEN, json!("5.00")), (BLACK, json!({"amount": "1.00"}))]);
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("refunds/create", &refund, SHOPIFY_SECRET).await.status(), 200);
    }
    let order = the_vendor_order(&app, &key).await;
    assert_eq!(refunded(&order), [(GREEN.to_string(), "5.00".to_string())], "{order}");
    assert_eq!(operator_mails(&app, "a refund could not be applied").await, 1);
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    let reason = &record.unassigned_refunds[0].reason;
    assert!(reason.contains(RED) && reason.contains(BLACK) && !reason.contains(GREEN), "{reason}");
    for queue in [dropflow_shared::ports::DeadLetterQueue::Intake, dropflow_shared::ports::DeadLetterQueue::Notify] {
        assert!(app.local.queues.dead_letters(queue).await.unwrap().is_empty());
    }
}

/// A SKU is the same SKU however its accents are encoded: a storefront sending "CAFÉ-1"
/// as E + combining accent reaches the vendor that mapped it precomposed.
async fn a_sku_matches_its_mapping_in_either_unicode_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("cafe-shop", &["CAF\u{C9}-1"]).await;
    let order = json!({"id": "77", "number": "#77", "currency": "EUR", "financial_status": "paid", "updated_at": "2026-11-20T10:00:00Z",
        "customer": {"name": "Anna Weber", "email": "anna@example.de"},
        "shipping_address": {"name": "Anna Weber", "line1": "Torstra\u{DF}e 1", "city": "Berlin", "postal_code": "10119", "country_code": "DE"},
        "lines": [{"id": "1", "sku": "CAFE\u{301}-1", "title": "Caf\u{E9} mug", "quantity": 1, "unit_price": "9.00", "paid": "9.00"}]});
    let sent = app.generic_webhook("order.paid", None, &serde_json::to_vec(&order).unwrap(), dropflow_scenarios::GENERIC_SECRETS[0]).await;
    assert_eq!(sent.status(), 200);
    let orders = orders_of(&app, &key).await;
    assert_eq!(orders.len(), 1, "routed to the vendor that mapped it: {orders:?}");
}

/// A version stamped in the year 2999 (a storefront's broken clock) is kept and the
/// operator told, once; it cannot freeze the order: a real later version still counts.
async fn an_order_stamped_in_the_year_2999_is_kept_and_does_not_freeze_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let future = shopify("2999-01-01T00:00:00Z", |_| {});
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("orders/paid", &future, SHOPIFY_SECRET).await.status(), 200);
    }
    assert_eq!(orders_of(&app, &key).await.len(), 1, "kept and routed");
    assert_eq!(operator_mails(&app, "stamped in the future").await, 1);
    let later = (app.now() + chrono::Duration::minutes(5)).to_rfc3339();
    let moved = shopify(&later, |o| o["shipping_address"]["address1"] = json!("Elm Street 7"));
    assert_eq!(app.shopify_webhook("orders/updated", &moved, SHOPIFY_SECRET).await.status(), 200);
    assert_eq!(the_vendor_order(&app, &key).await["shipping_address"]["line1"], "Elm Street 7", "the real later version counts");
    // The future version again, after it: it does not take the order back, and is
    // not left failing (it once lost a transaction to its own earlier note, for ever).
    app.shopify_webhook("orders/paid", &future, SHOPIFY_SECRET).await;
    assert_eq!(the_vendor_order(&app, &key).await["shipping_address"]["line1"], "Elm Street 7");
    let dead = app.local.queues.dead_letters(dropflow_shared::ports::DeadLetterQueue::Intake).await.unwrap();
    assert!(dead.is_empty(), "{dead:?}");
    app.advance(chrono::Duration::hours(1));
    assert_eq!(app.deliver().await, 0, "nothing is left to retry");
    // A cancel stamped in the future still cancels: the payment only moves forward.
    let cancel = shopify("2999-01-01T00:00:00Z", |o| o["financial_status"] = json!("voided"));
    assert_eq!(app.shopify_webhook("orders/cancelled", &cancel, SHOPIFY_SECRET).await.status(), 200);
    assert_eq!(the_vendor_order(&app, &key).await["state"], "cancelled");
    assert_eq!(operator_mails(&app, "stamped in the future").await, 2, "the cancel is news of its own");
}

/// A WooCommerce body without `_links` under a shared secret names no site: the order is
/// kept and routed, and the operator told once.
async fn a_woocommerce_order_without_its_links_is_kept_and_the_operator_told(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = woo_vendor(&app).await;
    let mut order: Value = serde_json::from_slice(&fixture(WOO_ORDER)).unwrap();
    order.as_object_mut().unwrap().remove("_links");
    let body = serde_json::to_vec(&order).unwrap();
    for _ in 0..2 {
        assert_eq!(app.woocommerce_webhook("order.created", &body, WOOCOMMERCE_SECRET).await.status(), 200);
    }
    assert_eq!(orders_of(&app, &key).await.len(), 1, "kept and routed, once");
    assert_eq!(operator_mails(&app, "names no site").await, 1);
}

/// One line id sent on two lines: which one a refund or an edit means cannot be told,
/// so both are kept for the operator and a refund naming that id is not applied.
async fn a_line_id_sent_on_two_lines_keeps_both_for_the_operator_and_no_refund_picks_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let twice = shopify("2026-11-20T10:00:00-05:00", |o| o["line_items"][1]["id"] = o["line_items"][0]["id"].clone());
    assert_eq!(app.shopify_webhook("orders/paid", &twice, SHOPIFY_SECRET).await.status(), 200);
    let routed = the_vendor_order(&app, &key).await;
    let ids: Vec<&str> = routed["lines"].as_array().unwrap().iter().map(|l| l["line_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [BLACK], "only the line with an id of its own is routed");
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    assert_eq!(record.unroutable.len(), 2, "{:?}", record.unroutable);
    assert!(record.unroutable.iter().all(|u| u.reason.contains("on 2 lines")));
    assert_eq!(app.shopify_webhook("refunds/create", &shopify_refund(5, &[(GREEN, json!("199.00"))]), SHOPIFY_SECRET).await.status(), 200);
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    assert!(record.refunds.is_empty(), "applied to neither line: {:?}", record.refunds);
    assert!(record.unassigned_refunds.iter().any(|r| r.reason.contains("several lines")), "{:?}", record.unassigned_refunds);
}

/// WooCommerce may deliver a delete before the order it deletes (its webhooks go out
/// from a background queue): the order, when it comes, is filed cancelled and goes to
/// no vendor. The order of arrival never decides whether something ships.
async fn a_delete_that_comes_before_its_order_files_the_order_cancelled(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = woo_vendor(&app).await;
    assert_eq!(app.woocommerce_webhook("order.deleted", br#"{"id": 727}"#, WOOCOMMERCE_SECRET).await.status(), 200);
    assert!(dropflow_shared::services::operator::find_orders(&app.local.app, "727").await.unwrap().is_empty(), "a delete files no order");
    for _ in 0..2 {
        assert_eq!(app.woocommerce_webhook("order.created", &fixture(WOO_ORDER), WOOCOMMERCE_SECRET).await.status(), 200);
    }
    assert!(orders_of(&app, &key).await.is_empty(), "the deleted order goes to no vendor");
    let ids = dropflow_shared::services::operator::find_orders(&app.local.app, "727").await.unwrap();
    let record = app.local.app.tables.order(&ids[0]).await.unwrap().unwrap();
    assert_eq!(record.order.payment, dropflow_shared::domain::order::Payment::Void, "kept, as cancelled");
}

/// A cancel ends the wait of a line no vendor sells: the operator has nothing left to
/// settle for it, and mapping its SKU later routes nothing of a cancelled order.
async fn a_cancel_ends_the_wait_of_a_line_no_vendor_sells(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    assert_eq!(app.shopify_webhook("orders/paid", &shopify("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await.status(), 200);
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    assert_eq!(record.unroutable.len(), 1, "IPOD2008BLACK waits for a vendor");
    let cancel = shopify("2026-11-20T11:00:00-05:00", |o| {
        o["financial_status"] = json!("voided");
        o["cancelled_at"] = json!("2026-11-20T11:00:00-05:00");
    });
    assert_eq!(app.shopify_webhook("orders/cancelled", &cancel, SHOPIFY_SECRET).await.status(), 200);
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    assert!(record.unroutable.is_empty(), "nothing waits on a cancelled order: {:?}", record.unroutable);
    app.onboard("black-shop", &["IPOD2008BLACK"]).await;
    let orders = orders_of(&app, &key).await;
    assert!(orders.iter().all(|o| o["state"] == "cancelled"), "{orders:?}");
    let owners = app.local.app.tables.vendor_orders_of(&order_id()).await.unwrap();
    assert!(owners.iter().all(|vo| vo.vendor_id.as_str() != "black-shop"), "the SKU's new vendor gets nothing of a cancelled order");
}

/// The first delivery of an order may be a version stamped in the year 2999: it is taken
/// as stamped when the order was created, so the storefront's real later versions that
/// were sent before it arrived still count (taking it as now would have frozen them out).
async fn a_future_stamped_first_delivery_yields_to_the_storefronts_real_versions(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let created = "2026-11-20T10:00:00-05:00";
    let future = shopify("2999-01-01T00:00:00Z", |o| o["created_at"] = json!(created));
    assert_eq!(app.shopify_webhook("orders/paid", &future, SHOPIFY_SECRET).await.status(), 200);
    app.advance(chrono::Duration::days(2));
    // Sent a minute after the order was created, delivered two days later.
    let moved = shopify("2026-11-20T10:01:00-05:00", |o| {
        o["created_at"] = json!(created);
        o["shipping_address"]["address1"] = json!("Elm Street 7");
    });
    assert_eq!(app.shopify_webhook("orders/updated", &moved, SHOPIFY_SECRET).await.status(), 200);
    assert_eq!(the_vendor_order(&app, &key).await["shipping_address"]["line1"], "Elm Street 7", "the real later version counts");
}

/// Two refunds of one line, both before their order: they come back together (one SQS
/// batch) once it is routed, and race for its vendor order; the one that loses re-reads
/// and records itself on top, at once (it was left to a later retry, so the sim saw
/// half the money refunded when the order of arrival changed).
async fn two_refunds_racing_for_one_vendor_order_are_both_recorded(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("RETRY_FIRST_BACKOFF_SECONDS", "1")]).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("refunds/create", &shopify_refund(2, &[(GREEN, json!("1.00"))]), SHOPIFY_SECRET).await;
    app.shopify_webhook("refunds/create", &shopify_refund(3, &[(GREEN, json!("1.00"))]), SHOPIFY_SECRET).await;
    app.shopify_webhook("orders/paid", &shopify("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    // Their retry comes (SQS measures it in real seconds, the embedded queue on the
    // app's clock).
    app.advance(chrono::Duration::seconds(3));
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    app.deliver().await;
    let order = the_vendor_order(&app, &key).await;
    assert_eq!(refunded(&order), [(GREEN.to_string(), "1.00".to_string()), (GREEN.to_string(), "1.00".to_string())], "{order}");
}

/// Shopify does not order its webhooks: a refund of a line can come before the edit that
/// added the line. It waits for the line and goes with it, as a refund that comes before
/// its order does (it was once handed to the operator, and the line then shipped with
/// no refund on it: dropflow-sim seed 6, history 45).
async fn a_refund_that_comes_before_the_edit_adding_its_line_waits_for_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &shopify("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    app.deliver().await;
    assert_eq!(app.shopify_webhook("refunds/create", &shopify_refund(5, &[("999", json!("20.00"))]), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    let added = shopify("2026-11-20T10:05:00-05:00", |o| {
        let mut line = o["line_items"][0].clone();
        line["id"] = json!(999);
        o["line_items"].as_array_mut().unwrap().push(line);
    });
    assert_eq!(app.shopify_webhook("orders/updated", &added, SHOPIFY_SECRET).await.status(), 200);
    // The waiting refund comes back after its backoff (on SQS, in real seconds).
    let mut found = Vec::new();
    for _ in 0..30 {
        app.advance(chrono::Duration::minutes(30));
        app.deliver().await;
        found = Vec::new();
        for listed in &orders_of(&app, &key).await {
            let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", listed["id"].as_str().unwrap()), &key, None).await;
            found.extend(refunded(&order));
        }
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert_eq!(found, [("999".to_string(), "20.00".to_string())]);
    assert_eq!(operator_mails(&app, "refund").await, 0, "nothing for the operator to settle");
}

on_both_backends!(
    a_refund_that_comes_before_the_edit_adding_its_line_waits_for_it,
    two_refunds_racing_for_one_vendor_order_are_both_recorded,
    a_delete_that_comes_before_its_order_files_the_order_cancelled,
    a_cancel_ends_the_wait_of_a_line_no_vendor_sells,
    a_future_stamped_first_delivery_yields_to_the_storefronts_real_versions,
);

on_both_backends!(
    a_refund_before_the_payment_goes_with_its_line_and_a_line_refunded_in_full_is_not_routed,
    a_refund_of_a_waiting_line_goes_with_it_when_its_sku_is_mapped,
    a_negative_or_too_large_refund_is_kept_for_the_operator_and_never_applied,
    an_unreadable_refund_line_does_not_lose_the_readable_ones_delivered_with_it,
    a_sku_matches_its_mapping_in_either_unicode_form,
    an_order_stamped_in_the_year_2999_is_kept_and_does_not_freeze_it,
    a_line_id_sent_on_two_lines_keeps_both_for_the_operator_and_no_refund_picks_one,
    a_woocommerce_order_without_its_links_is_kept_and_the_operator_told,
);

on_both_backends!(
    a_woocommerce_delete_of_just_an_id_cancels_that_sites_order_once,
    with_a_secret_per_site_the_verifying_secret_names_the_site_of_a_delete,
    a_checkout_draft_with_a_paid_date_is_held,
    a_cancel_stamped_in_the_second_of_the_payment_cancels_in_either_order,
);
