//! Mail that tells the truth about the whole order (issue 24 #1–#3), on both backends:
//! the customer hears "delivered" only when everything they will get has arrived, a
//! shipped parcel says when more follow, a vendor's cancel of the whole order is not
//! "part of your order", the carrier's states come in words, customer mail carries a
//! Reply-To, vendors hear when money moves against them, and vendor mail links to the
//! dashboard page of its order.

use dropflow_scenarios::{Backend, GENERIC_SECRETS, SHOPIFY_SECRET, TestApp, WOOCOMMERCE_SECRET, fixture, on_both_backends, spawn_app, spawn_app_configured};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

const CUSTOMER: &str = "bob.norman@hostmail.com";

/// The fixture order (#1001: green, red and black iPods) paid; vendor A sells green
/// and red, vendor B black when `two_vendors`, else A sells all three.
async fn paid_order(app: &TestApp, two_vendors: bool) -> (String, Option<String>) {
    let (a, b) = if two_vendors {
        (app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED"]).await, Some(app.onboard("vendor-b", &["IPOD2008BLACK"]).await))
    } else {
        (app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await, None)
    };
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    (a, b)
}

fn vo() -> String {
    OrderId::derive("shopify", "", "450789469").to_string()
}

async fn act(app: &TestApp, key: &str, step: &str, body: Value) {
    let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/{step}", vo()), key, Some(body)).await;
    assert_eq!(status, 200, "{step}: {answer}");
    app.deliver().await;
}

/// Places, ships under `number` and (when `delivered`) delivers the caller's order.
async fn ship(app: &TestApp, key: &str, reference: &str, number: &str, delivered: bool) {
    act(app, key, "supplier-order", json!({"supplier_order_ref": reference})).await;
    act(app, key, "shipment", json!({"tracking_number": number})).await;
    if delivered {
        act(app, key, "delivered", json!({})).await;
    }
}

/// The mail to `to`, oldest first.
async fn mail_to(app: &TestApp, to: &str) -> Vec<Value> {
    app.outbox().await.into_iter().filter(|m| m["to"] == to).collect()
}

fn subjects(mail: &[Value]) -> Vec<String> {
    mail.iter().map(|m| m["subject"].as_str().unwrap_or_default().to_string()).collect()
}

fn text_of<'a>(mail: &'a [Value], subject_start: &str) -> &'a str {
    let found = mail.iter().find(|m| m["subject"].as_str().is_some_and(|s| s.starts_with(subject_start)));
    found.unwrap_or_else(|| panic!("a mail {subject_start:?} in {:?}", subjects(mail)))["text"].as_str().unwrap()
}

/// Vendor A's parcel (2 of 3 items) arrives first: the customer hears "2 of 3 items
/// delivered" with what is still coming, never "was delivered"; A's shipped mail said
/// more parcels follow. Only B's delivery makes it "was delivered".
async fn the_customer_hears_delivered_only_when_every_item_has_arrived(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, b) = paid_order(&app, true).await;
    ship(&app, &a, "AE-1", "1Z5R89390357567127", true).await;
    let mail = mail_to(&app, CUSTOMER).await;
    let shipped = text_of(&mail, "Order #1001: a parcel has shipped");
    assert!(shipped.contains("More parcels follow") && shipped.contains("1 x IPod Nano - 8gb: being prepared"), "{shipped}");
    let part = text_of(&mail, "Order #1001: 2 of 3 items delivered");
    assert!(part.contains("Still to come") && part.contains("1 x IPod Nano - 8gb: being prepared"), "{part}");
    assert!(!subjects(&mail).iter().any(|s| s.contains("was delivered")), "not while an item is open: {:?}", subjects(&mail));

    ship(&app, b.as_deref().unwrap(), "CJ-1", "RB123456785GB", true).await;
    let mail = mail_to(&app, CUSTOMER).await;
    let shipped: Vec<&Value> = mail.iter().filter(|m| m["subject"].as_str().unwrap().starts_with("Order #1001: a parcel has shipped")).collect();
    let last = shipped[1]["text"].as_str().unwrap();
    assert!(!last.contains("More parcels follow") && last.contains("In this parcel"), "the last parcel: {last}");
    let whole = text_of(&mail, "Order #1001 was delivered");
    assert!(whole.contains("Everything in it has arrived"), "{whole}");
    assert_eq!(subjects(&mail).iter().filter(|s| s.contains("was delivered")).count(), 1, "{:?}", subjects(&mail));
}

/// A vendor that cannot send anything of a one-vendor order: the customer is told the
/// order cannot be sent and is refunded in full, not that "anything else is on its
/// way". With two vendors, B's cancel is part of the order, and says what still comes.
async fn a_vendors_cancel_of_the_whole_order_is_not_part_of_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, _) = paid_order(&app, false).await;
    act(&app, &a, "cancel", json!({"reason": "supplier out of stock"})).await;
    let mail = mail_to(&app, CUSTOMER).await;
    let whole = text_of(&mail, "Your order #1001 cannot be sent");
    assert!(whole.contains("refund your order in full"), "{whole}");
    for wrong in ["Part of", "Anything else", "on its way", "out of stock"] {
        assert!(!whole.contains(wrong), "{wrong:?} in {whole}");
    }

    let app = spawn_app(backend).await;
    let (a, b) = paid_order(&app, true).await;
    ship(&app, &a, "AE-1", "1Z5R89390357567127", false).await;
    act(&app, b.as_deref().unwrap(), "cancel", json!({"reason": "supplier out of stock"})).await;
    let mail = mail_to(&app, CUSTOMER).await;
    let part = text_of(&mail, "Part of your order #1001 cannot be sent");
    assert!(part.contains("The rest of your order is on its way as planned"), "{part}");
    assert!(part.contains("Still coming") && part.contains("1 x IPod Nano - 8gb: on its way"), "{part}");
}

fn carrier_push(number: &str, tag: &str, n: u32) -> Vec<u8> {
    serde_json::to_vec(&json!({"event": "tracking_update", "event_id": format!("{tag}-{n}"), "msg": {"tracking_number": number, "slug": "ups", "tag": tag,
        "checkpoints": [{"checkpoint_time": "2026-11-23T08:00:00Z", "location": "UPS Access Point, 5th St, Austin", "message": "Held at <b>pickup</b>", "tag": tag}]}}))
    .unwrap()
}

/// A parcel at a pickup point, a failed attempt and an exception each reach the customer
/// in words, never as the feed's tags; the same news again mails nobody again.
async fn carrier_states_reach_the_customer_in_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let (a, _) = paid_order(&app, false).await;
    ship(&app, &a, "AE-1", "1Z5R89390357567127", false).await;
    for (n, tag) in ["AvailableForPickup", "AvailableForPickup", "AttemptFail", "Exception"].into_iter().enumerate() {
        assert_eq!(app.aftership_push(&carrier_push("1Z5R89390357567127", tag, n as u32)).await, Some(200));
        app.deliver().await;
    }
    let mail = mail_to(&app, CUSTOMER).await;
    let pickup = text_of(&mail, "Order #1001: your parcel is waiting for you");
    assert!(pickup.contains("waiting for you at UPS Access Point, 5th St, Austin"), "{pickup}");
    assert!(text_of(&mail, "Order #1001: the carrier tried to deliver").contains("could not hand it over"));
    assert!(text_of(&mail, "Order #1001: a problem with the delivery").contains("We are on it"));
    assert_eq!(subjects(&mail).iter().filter(|s| s.contains("waiting for you")).count(), 1, "the same news twice is one mail: {:?}", subjects(&mail));
    for m in &mail {
        for tag in ["AvailableForPickup", "AttemptFail", "Exception", "<b>"] {
            assert!(!m["text"].as_str().unwrap().contains(tag) && !m["subject"].as_str().unwrap().contains(tag), "{tag} in {m}");
        }
    }
}

/// Customer mail carries the store's support address as its Reply-To (the text invites
/// a reply); vendor and operator mail does not. Vendor mail links to the dashboard page
/// of its order under `PUBLIC_BASE_URL`, never to API paths.
async fn replies_reach_support_and_vendor_mail_links_to_the_dashboard(backend: Backend) {
    let settings = [("SUPPORT_EMAIL", "help@store.example"), ("PUBLIC_BASE_URL", "https://api.store.example/")];
    let app = spawn_app_configured(backend, None, &settings).await;
    let (a, _) = paid_order(&app, false).await;
    ship(&app, &a, "AE-1", "1Z5R89390357567127", true).await;
    let all = app.outbox().await;
    let customer = mail_to(&app, CUSTOMER).await;
    assert!(customer.len() >= 3, "{:?}", subjects(&customer));
    let vendor = mail_to(&app, "vendor-a@vendors.example").await;
    let brief = vendor.iter().find(|m| m["subject"].as_str().unwrap().starts_with("New order #1001")).expect("the brief");
    let link = format!("href=\"https://api.store.example/vendor/app#orders/{}\"", vo());
    assert!(brief["html"].as_str().unwrap().contains(&link), "{brief}");
    for m in &all {
        assert!(!m["text"].as_str().unwrap().contains("POST /vendor"), "no API paths in mail: {m}");
    }
    // The outbox keeps each mail's Reply-To; moto's SES keeps none (it takes the request).
    if backend == Backend::Embedded {
        for m in &all {
            let expected = if m["to"] == CUSTOMER { Some("help@store.example") } else { None };
            assert_eq!(m["reply_to"].as_str(), expected, "{}", m["subject"]);
        }
    }
}

fn mug_order(refunds: Value) -> Vec<u8> {
    let updated = if refunds.as_array().is_some_and(|r| !r.is_empty()) { "2026-11-21T10:00:00Z" } else { "2026-11-20T10:00:00Z" };
    serde_json::to_vec(&json!({"id": "2001", "number": "#2001", "currency": "EUR", "financial_status": "paid", "updated_at": updated,
        "customer": {"name": "Anna Weber", "email": "anna@example.de"},
        "shipping_address": {"name": "Anna Weber", "line1": "Torstraße 1", "city": "Berlin", "postal_code": "10119", "country_code": "DE"},
        "lines": [{"id": "1", "sku": "MUG-1", "title": "Mug", "quantity": 2, "unit_price": "20.00", "paid": "40.00"}], "refunds": refunds}))
    .unwrap()
}

/// A refund before delivery, a reversal of held earnings and a clawback after release
/// each mail the vendor with the order and the amount.
async fn a_vendor_hears_when_money_moves_against_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("mugs", &["MUG-1"]).await;
    let refund = |id: &str, amount: &str| json!([{"id": id, "lines": [{"line_id": "1", "quantity": 0, "amount": amount}]}]);
    assert_eq!(app.generic_webhook("order.paid", None, &mug_order(json!([])), GENERIC_SECRETS[0]).await.status(), 200);
    app.deliver().await;
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    let id = list["orders"][0]["id"].as_str().unwrap().to_string();
    let step = |path: &'static str, body: Value| {
        let (app, key, id) = (&app, &key, &id);
        async move {
            let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/{path}"), key, Some(body)).await;
            assert_eq!(status, 200, "{path}: {answer}");
            app.deliver().await;
        }
    };
    let refunded = |refunds: Value| {
        let app = &app;
        async move {
            assert_eq!(app.generic_webhook("order.refunded", None, &mug_order(refunds), GENERIC_SECRETS[0]).await.status(), 200);
            app.deliver().await;
        }
    };
    refunded(refund("R1", "5.00")).await;
    step("supplier-order", json!({"supplier_order_ref": "AE-9"})).await;
    step("shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    step("delivered", json!({})).await;
    let mut both = refund("R1", "5.00").as_array().unwrap().clone();
    both.extend(refund("R2", "10.00").as_array().unwrap().clone());
    refunded(Value::Array(both.clone())).await;
    app.advance(chrono::Duration::days(15));
    dropflow_shared::services::money::run(&app.local.app, app.now(), None).await.expect("release");
    app.deliver().await;
    both.extend(refund("R3", "4.00").as_array().unwrap().clone());
    refunded(Value::Array(both)).await;

    let mail = mail_to(&app, "mugs@vendors.example").await;
    let before = text_of(&mail, "Order #2001: the customer was refunded 5.00 EUR");
    assert!(before.contains("before delivery") && before.contains("Mug: 5.00 EUR"), "{before}");
    let reversal = text_of(&mail, "Order #2001: the customer was refunded 10.00 EUR");
    assert!(reversal.contains("Taken from your held earnings: 9.00 EUR"), "10.00 less its 10% commission: {reversal}");
    let clawback = text_of(&mail, "Order #2001: the customer was refunded 4.00 EUR");
    assert!(clawback.contains("Taken back from your available balance: 3.60 EUR"), "{clawback}");
    assert!(clawback.contains("netted against your next payout"), "{clawback}");
    assert_eq!(subjects(&mail).iter().filter(|s| s.contains("was refunded")).count(), 3, "each refund once, though delivered again: {:?}", subjects(&mail));
}

async fn sweep_at(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> dropflow_shared::services::sweep::SweepReport {
    let report = dropflow_shared::services::sweep::sweep(&app.local.app, at, None).await.expect("sweep");
    app.deliver().await;
    report
}

fn about(mail: &[Value], words: &str) -> usize {
    subjects(mail).iter().filter(|s| s.contains(words)).count()
}

/// A line no vendor sells is the operator's to fix for `UNROUTABLE_NOTICE_HOURS`: the
/// customer hears nothing of it before; at the hour, if it still waits, the customer is
/// told it cannot be sent and will be refunded (with what still comes), the operator to
/// refund it, and it is routed no more. A line mapped in time is routed and never
/// announced.
async fn a_line_no_vendor_sells_is_announced_to_the_customer_after_the_notice_hours(backend: Backend) {
    let app = spawn_app(backend).await;
    let routed_at = app.now();
    app.onboard("vendor-a", &["IPOD2008GREEN"]).await;
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    // RED is mapped in time: routed, never announced. BLACK waits.
    app.onboard("vendor-r", &["IPOD2008RED"]).await;
    app.deliver().await;
    let notice = routed_at + chrono::Duration::hours(48);
    sweep_at(&app, notice - chrono::Duration::minutes(1)).await;
    assert_eq!(about(&mail_to(&app, CUSTOMER).await, "cannot be sent"), 0, "before the notice hours: the operator's to fix");
    let report = sweep_at(&app, notice + chrono::Duration::seconds(1)).await;
    assert_eq!(report.voided, 1, "{report:?}");
    let mail = mail_to(&app, CUSTOMER).await;
    let told = text_of(&mail, "Part of your order #1001 cannot be sent");
    assert!(told.contains("not sold by any of our suppliers") && told.contains("will refund these items") && told.contains("Still coming"), "{told}");
    let operator = mail_to(&app, "ops@market.example").await;
    assert!(text_of(&operator, "Order #1001: lines will not be sent, refund them").contains("no vendor sells SKU IPOD2008BLACK"));
    // Void: mapped later, it is routed no more; a second sweep tells nobody again.
    app.onboard("vendor-b", &["IPOD2008BLACK"]).await;
    sweep_at(&app, notice + chrono::Duration::hours(1)).await;
    assert_eq!(mail_to(&app, "vendor-b@vendors.example").await.len(), 0, "a void line reaches no vendor");
    assert_eq!(about(&mail_to(&app, CUSTOMER).await, "cannot be sent"), 1);
    let shown = app.cli(&["order", "show", "#1001"]).await.unwrap();
    assert!(shown.contains("void since") && shown.contains("line 703073504"), "{shown}");
}

/// The operator voids lines at once: with every line of the order void, the customer
/// is told the whole order cannot be sent and is refunded in full; the notice due later
/// sends nothing more. A line that does not wait cannot be voided.
async fn the_operator_voids_a_line_and_the_customer_hears_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let start = app.now();
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    assert!(app.cli(&["order", "void", "#1001", "1", "--reason", "not sold here"]).await.is_err(), "no such waiting line");
    let said = app.cli(&["order", "void", "#1001", "466157049", "518995019", "703073504", "--reason", "not sold here"]).await.unwrap();
    assert!(said.starts_with("3 lines of order"), "{said}");
    app.deliver().await;
    let whole = text_of(&mail_to(&app, CUSTOMER).await, "Your order #1001 cannot be sent").to_string();
    assert!(whole.contains("refund your order in full") && !whole.contains("Still coming"), "{whole}");
    assert!(app.cli(&["order", "void-line", "#1001", "466157049", "--reason", "again"]).await.is_err(), "void already");
    sweep_at(&app, start + chrono::Duration::hours(49)).await;
    assert_eq!(about(&mail_to(&app, CUSTOMER).await, "cannot be sent"), 1, "told once");
}

/// The confirmation lists what the customer bought, in plain words: WooCommerce's
/// HTML-escaped product names decoded once ("Ship Your Idea – Color", never `&ndash;`
/// or `&#38;ndash;`), and no line edited to nothing or sent negative (a discount).
async fn a_confirmation_lists_what_was_bought_in_plain_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut order: Value = serde_json::from_slice(&fixture("woocommerce/order-processing.json")).unwrap();
    let lines = order["line_items"].as_array_mut().unwrap();
    let mut empty = lines[0].clone();
    (empty["id"], empty["name"], empty["quantity"], empty["subtotal"], empty["total"]) =
        (json!(317), json!("Edited away"), json!(0), json!("0.00"), json!("0.00"));
    let mut discount = lines[0].clone();
    (discount["id"], discount["name"], discount["quantity"], discount["subtotal"], discount["total"]) =
        (json!(318), json!("Loyalty discount"), json!(1), json!("-5.00"), json!("-5.00"));
    lines.extend([empty, discount]);
    assert_eq!(app.woocommerce_webhook("order.created", &serde_json::to_vec(&order).unwrap(), WOOCOMMERCE_SECRET).await.status(), 200);
    app.deliver().await;
    let mail = mail_to(&app, "john.doe@example.com").await;
    let confirmed = mail.iter().find(|m| m["subject"].as_str().unwrap().starts_with("Order #727 confirmed")).expect("a confirmation");
    let (text, html) = (confirmed["text"].as_str().unwrap(), confirmed["html"].as_str().unwrap());
    assert!(text.contains("1 x Ship Your Idea \u{2013} Color: Black, Size: M Test"), "{text}");
    assert!(text.contains("2 x Woo Single #1"), "{text}");
    for wrong in ["&ndash;", "&#38;ndash;", "&amp;ndash;", "Edited away", "Loyalty discount"] {
        assert!(!text.contains(wrong) && !html.contains(wrong), "{wrong} in {text}");
    }
}

on_both_backends!(
    a_confirmation_lists_what_was_bought_in_plain_words,
    a_line_no_vendor_sells_is_announced_to_the_customer_after_the_notice_hours,
    the_operator_voids_a_line_and_the_customer_hears_at_once,
    the_customer_hears_delivered_only_when_every_item_has_arrived,
    a_vendors_cancel_of_the_whole_order_is_not_part_of_it,
    carrier_states_reach_the_customer_in_words,
    replies_reach_support_and_vendor_mail_links_to_the_dashboard,
    a_vendor_hears_when_money_moves_against_it,
);
