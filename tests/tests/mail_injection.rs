//! Hostile values in every field that reaches mail (the customer's name and address, a
//! line's title, the order number) stay data: CR/LF, a MIME boundary, markup, bidi
//! overrides and control characters change neither a mail's headers nor its parts.
//! Each mail is parsed back with a standards parser (`mail-parser`) on the embedded
//! outbox; on SES the recorded subject and recipient are checked.

use dropflow_scenarios::{Backend, MailBox, SHOPIFY_SECRET, fixture, on_both_backends, spawn_app};
use serde_json::Value;

const EVIL_NAME: &str = "Bob\r\nBcc: attacker@evil.example\r\n\r\n--dropflow-alternative-boundary\r\nContent-Type: text/html\r\n\r\n<h1>pwned</h1>";

fn hostile_order() -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["name"] = Value::String("#1001\r\nBcc: attacker@evil.example \u{202E}gpj.exe\u{0007}".into());
    order["shipping_address"]["name"] = Value::String(EVIL_NAME.into());
    order["shipping_address"]["address1"] = Value::String("Chestnut Street 92 \u{202E}txt.exe".into());
    order["line_items"][0]["title"] = Value::String("</td><script>alert(1)</script>".into());
    serde_json::to_vec(&order).unwrap()
}

fn clean_header(value: &str) {
    assert!(!value.chars().any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c)), "{value:?}");
}

async fn hostile_order_data_stays_data_in_every_mail(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    assert_eq!(app.shopify_webhook("orders/paid", &hostile_order(), SHOPIFY_SECRET).await.status(), 200);
    let sent = app.outbox().await;
    let recipients: Vec<&str> = sent.iter().filter_map(|m| m["to"].as_str()).collect();
    assert_eq!(recipients.len(), 2, "the confirmation and the vendor's brief, nothing else: {sent:?}");
    assert!(recipients.iter().all(|to| ["bob.norman@hostmail.com", "ipod-shop@vendors.example"].contains(to)), "{recipients:?}");
    for mail in &sent {
        clean_header(mail["subject"].as_str().unwrap());
        let html = mail["html"].as_str().unwrap();
        assert!(!html.contains("<script>") && !html.contains("<h1>pwned"), "markup from the order reached the HTML: {html}");
    }
    let MailBox::Outbox(dir) = &app.mail else { return };
    for entry in std::fs::read_dir(dir.join("outbox")).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let message = mail_parser::MessageParser::default().parse(&raw).expect("a MIME message");
        assert_eq!((message.text_body_count(), message.html_body_count(), message.attachment_count()), (1, 1, 0), "exactly the two parts meant");
        assert!(message.bcc().is_none() && message.header_raw("Bcc").is_none(), "no header injected");
        assert_eq!(message.to().map(|to| to.iter().count()), Some(1));
        clean_header(message.subject().unwrap());
        let text = message.body_text(0).unwrap();
        assert!(text.contains("Chestnut Street 92"), "the address is shown as text: {text}");
    }
}

/// A carrier name and a variant that are web addresses stay text in every mail (no
/// anchor, nothing a mail client would turn into a link); the only links are the ones
/// dropflow builds (issue 23 #11).
async fn free_text_that_looks_like_a_link_never_becomes_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["line_items"][0]["variant_title"] = Value::String("see https://evil.example/win".into());
    assert_eq!(app.shopify_webhook("orders/paid", &serde_json::to_vec(&order).unwrap(), SHOPIFY_SECRET).await.status(), 200);
    let path = format!("/vendor/orders/{}", dropflow_shared::domain::ids::OrderId::derive("shopify", "", "450789469"));
    for (step, body) in [
        ("supplier-order", serde_json::json!({"supplier_order_ref": "AE-1"})),
        ("shipment", serde_json::json!({"carrier": "www.evil.example", "tracking_number": "EV123456789"})),
    ] {
        let (status, answer, _) = app.vendor(reqwest::Method::POST, &format!("{path}/{step}"), &key, Some(body)).await;
        assert_eq!(status, 200, "{answer}");
    }
    let sent = app.outbox().await;
    assert!(sent.iter().any(|m| m["subject"].as_str().unwrap_or_default().contains("shipped")), "{sent:?}");
    for mail in &sent {
        for part in ["html", "text"] {
            let body = mail[part].as_str().unwrap_or_default();
            assert!(!body.contains("href=\"https://evil") && !body.contains("https://evil") && !body.contains("www.evil"), "{part}: {body}");
        }
    }
    assert!(sent.iter().any(|m| m["html"].as_str().unwrap_or_default().contains("evil.example")), "the text is still shown");
}

on_both_backends!(hostile_order_data_stays_data_in_every_mail, free_text_that_looks_like_a_link_never_becomes_one);
