//! The customer's order-status page (issue 27), on both backends: the link every
//! customer mail carries, what the page says of each parcel as the order goes on, in
//! English and German, and the links that open nothing (altered, another order's id
//! under this order's tag, expired, erased) with what the page never shows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

/// The fixture order's id.
fn order_id(external: u64) -> String {
    OrderId::derive("shopify", "", &external.to_string()).to_string()
}

/// The fixture order under `external` (its lines' ids moved with it), paid.
async fn paid(app: &TestApp, external: u64) {
    paid_in(app, external, None).await;
}

/// The same, its customer's language `locale` when given.
async fn paid_in(app: &TestApp, external: u64, locale: Option<&str>) {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    if let Some(locale) = locale {
        order["customer_locale"] = locale.into();
    }
    let shift = external - 450_789_469;
    order["id"] = external.into();
    order["name"] = format!("#{}", 1001 + shift).into();
    for line in order["line_items"].as_array_mut().unwrap() {
        line["id"] = (line["id"].as_u64().unwrap() + shift).into();
    }
    let answer = app.shopify_webhook("orders/paid", order.to_string().as_bytes(), SHOPIFY_SECRET).await;
    assert_eq!(answer.status(), 200);
    app.deliver().await;
}

/// The token of the status link in the customer's confirmation of order `number`.
async fn token_from_confirmation(app: &TestApp, number: &str) -> String {
    let mail = app.outbox().await;
    let confirmation = mail
        .iter()
        .find(|m| m["subject"].as_str().is_some_and(|s| s.contains(number) && s.contains("confirmed")) && m["to"].as_str() == Some("bob.norman@hostmail.com"))
        .unwrap_or_else(|| panic!("a confirmation of {number}: {:?}", mail.iter().map(|m| &m["subject"]).collect::<Vec<_>>()));
    // The HTML part: moto keeps only that of a mail sent through SES.
    let html = confirmation["html"].as_str().unwrap();
    assert!(html.contains("Track your order"), "{html}");
    let at = html.find("/status/").expect("a status link") + "/status/".len();
    html[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// What `/status/{path}` answers: its status, its headers' cache policy, its body.
async fn open(app: &TestApp, path: &str, language: Option<&str>) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(format!("{}/status/{path}", app.base));
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, cache, response.text().await.unwrap())
}

async fn act(app: &TestApp, key: &str, step: &str, body: Value) {
    let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/{step}", order_id(450_789_469)), key, Some(body)).await;
    assert_eq!(status, 200, "{step}: {answer}");
    app.deliver().await;
}

/// What no page or JSON may carry: the street, the postcode, the email, the phone, a
/// vendor, a supplier, its page or order reference, a price or a cost.
const NEVER_SHOWN: [&str; 11] = ["Chestnut", "40202", "hostmail", "555-625", "vendor-a", "vendor-b", "AliExpress", "aliexpress.com", "AE-1", "199.00", "61.50"];

async fn the_link_in_every_customer_mail_shows_each_parcel_as_it_goes(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let b = app.onboard("vendor-b", &["IPOD2008BLACK"]).await;
    paid(&app, 450_789_469).await;
    let token = token_from_confirmation(&app, "#1001").await;
    let mut served = Vec::new();
    let (status, cache, page) = open(&app, &token, None).await;
    assert_eq!((status, cache.as_str()), (200, "private, max-age=60"));
    assert_eq!(page.matches("Being prepared by the maker").count(), 2, "one group per vendor: {page}");
    assert!(page.contains("Going to Louisville, US") && page.contains("1 × IPod Nano - 8gb (green)"), "{page}");
    served.push(page);
    act(&app, &a, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    act(&app, &a, "shipment", json!({"tracking_number": "RB123456785GB"})).await;
    let (_, _, page) = open(&app, &token, None).await;
    assert!(page.contains("On its way with Royal Mail"), "{page}");
    assert!(page.contains(r#"<a href="https://t.17track.net/en#nums=RB123456785GB" rel="noreferrer noopener">Tracking RB123456785GB</a>"#), "{page}");
    served.push(page);
    let exception = json!({"event": "tracking_update", "event_id": "x-1", "msg": {"tracking_number": "RB123456785GB", "slug": "royal-mail", "tag": "Exception",
        "checkpoints": [{"checkpoint_time": "2026-11-23T08:00:00Z", "location": "Leeds <i>hub</i>", "message": "Address <b>query</b>", "tag": "Exception"}]}});
    assert_eq!(app.aftership_push(&serde_json::to_vec(&exception).unwrap()).await, Some(200));
    let (_, _, page) = open(&app, &token, None).await;
    assert!(page.contains("Royal Mail reports a problem with the delivery: we are on it"), "{page}");
    assert!(
        page.contains("Address &#60;b&#62;query&#60;/b&#62; (Leeds &#60;i&#62;hub&#60;/i&#62;)") && !page.contains("<b>query"),
        "the carrier's words as text: {page}"
    );
    served.push(page);
    act(&app, &a, "delivered", json!({})).await;
    act(&app, &b, "cancel", json!({"reason": "out of stock at the supplier"})).await;
    let (_, _, page) = open(&app, &token, None).await;
    assert!(page.contains("Delivered on") && page.contains("Cancelled: it will be refunded"), "{page}");
    served.push(page.clone());
    let (_, _, german) = open(&app, &token, Some("de-DE,de;q=0.9,en;q=0.5")).await;
    assert!(german.contains(r#"<html lang="de">"#) && german.contains("Zugestellt am") && german.contains("Storniert: wird erstattet"), "{german}");
    served.push(german);
    let (status, _, facts) = open(&app, &format!("{token}.json"), None).await;
    assert_eq!(status, 200);
    let facts: Value = serde_json::from_str(&facts).unwrap();
    let states: Vec<&str> = facts["groups"].as_array().unwrap().iter().map(|g| g["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["delivered", "cancelled"]);
    assert_eq!(facts["groups"][0]["tracking"]["number"], "RB123456785GB");
    served.push(facts.to_string());
    for bytes in &served {
        for never in NEVER_SHOWN {
            assert!(!bytes.contains(never), "{never:?} served: {bytes}");
        }
    }
    // Every later customer mail carries the link too.
    let mail = app.outbox().await;
    let to_customer: Vec<&Value> = mail.iter().filter(|m| m["to"].as_str() == Some("bob.norman@hostmail.com")).collect();
    assert!(to_customer.len() >= 3 && to_customer.iter().all(|m| m["html"].as_str().unwrap().contains(&format!("/status/{token}"))), "{to_customer:?}");
    // 89 days after the last delivery the link opens; 91 days after, it does not.
    app.advance(chrono::Duration::days(89));
    assert_eq!(open(&app, &token, None).await.0, 200);
    app.advance(chrono::Duration::days(2));
    let (status, _, page) = open(&app, &token, None).await;
    assert_eq!(status, 404);
    assert!(page.contains("not valid or has expired"), "{page}");
}

async fn an_altered_link_another_orders_id_under_its_tag_and_an_erased_order_open_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    paid(&app, 450_789_469).await;
    paid_in(&app, 450_789_470, Some("de-DE")).await;
    let token = token_from_confirmation(&app, "#1001").await;
    assert_eq!(open(&app, &token, None).await.0, 200);
    let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
    let mut altered = bytes.clone();
    altered[bytes.len() / 2] ^= 0x20;
    let named = String::from_utf8_lossy(&bytes[..bytes.len() - 16]).to_string();
    let mut swapped = named.replace(&order_id(450_789_469), &order_id(450_789_470)).into_bytes();
    swapped.extend_from_slice(&bytes[bytes.len() - 16..]);
    for (what, path) in [
        ("one byte changed", URL_SAFE_NO_PAD.encode(&altered)),
        ("another order's id under this order's tag", URL_SAFE_NO_PAD.encode(&swapped)),
        ("not a token", "..%2F..%2Fetc%2Fpasswd".to_string()),
        ("the JSON of one byte changed", format!("{}.json", URL_SAFE_NO_PAD.encode(&altered))),
    ] {
        assert_eq!(open(&app, &path, None).await.0, 404, "{what}");
    }
    // The second order's own link opens, until its customer's data is erased.
    let shown = app.cli(&["order", "show", &order_id(450_789_470)]).await.unwrap();
    let link = shown.lines().find_map(|l| l.strip_prefix("customer's status page: ")).expect("order show prints the link").to_string();
    let second = link.rsplit('/').next().unwrap().to_string();
    let (status, _, page) = open(&app, &second, Some("en-US")).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<html lang="de">"#) && page.contains("Ihre Bestellung #1002"), "the storefront's language before the browser's: {page}");
    let redact = json!({"shop_id": 954_889, "shop_domain": dropflow_scenarios::SCENARIO_SHOP, "customer": {"id": 191_167, "email": "bob.norman@hostmail.com"},
        "orders_to_redact": [450_789_470_u64]});
    let answer = app.shopify_webhook("customers/redact", redact.to_string().as_bytes(), SHOPIFY_SECRET).await;
    assert_eq!(answer.status(), 200);
    app.deliver().await;
    assert_eq!(open(&app, &second, None).await.0, 404, "an erased order's page is gone");
    assert_eq!(open(&app, &token, None).await.0, 200, "the other order's is not");
}

async fn the_operator_may_show_each_parts_seller(backend: Backend) {
    let app = dropflow_scenarios::spawn_app_configured(backend, None, &[("STATUS_SHOW_SELLERS", "true")]).await;
    app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    app.onboard("vendor-b", &["IPOD2008BLACK"]).await;
    paid(&app, 450_789_469).await;
    let token = token_from_confirmation(&app, "#1001").await;
    let (status, _, page) = open(&app, &token, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sold by vendor-a") && page.contains("Sold by vendor-b"), "{page}");
    let (_, _, facts) = open(&app, &format!("{token}.json"), None).await;
    assert!(facts.contains(r#""sold_by":"vendor-a""#), "{facts}");
}

on_both_backends!(
    the_operator_may_show_each_parts_seller,
    the_link_in_every_customer_mail_shows_each_parcel_as_it_goes,
    an_altered_link_another_orders_id_under_its_tag_and_an_erased_order_open_nothing,
);
