//! SES's feedback on the notify queue: a permanent bounce suppresses the customer's
//! address, the next mail to it is skipped and recorded (not sent), the operator sees
//! the address and can lift it; a transient bounce suppresses nothing.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use dropflow_shared::ports::QueueName;
use reqwest::Method;
use serde_json::{Value, json};

const CUSTOMER: &str = "bob.norman@hostmail.com";

/// SES's event for a mail to `to`, as its configuration set publishes it through SNS
/// (SNS's envelope, no raw delivery).
fn ses_event(kind: &str, bounce_type: &str, to: &str) -> String {
    let event = json!({
        "eventType": kind,
        "bounce": { "bounceType": bounce_type, "bounceSubType": "General", "bouncedRecipients": [{ "emailAddress": to, "diagnosticCode": "smtp; 550 5.1.1 user unknown" }] },
        "mail": { "messageId": "ses-1", "source": "orders@shop.example", "destination": [to] },
    });
    json!({ "Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:mail-events", "Message": event.to_string() })
        .to_string()
}

async fn feed(app: &TestApp, body: String) {
    app.local.app.publisher.publish(QueueName::Notify, body).await.unwrap();
    app.deliver().await;
}

async fn mails_to(app: &TestApp, to: &str) -> Vec<Value> {
    app.outbox().await.into_iter().filter(|m| m["to"] == to).collect()
}

async fn a_bounced_address_gets_no_more_mail_and_the_skip_is_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    assert_eq!(mails_to(&app, CUSTOMER).await.len(), 1, "the confirmation went out");

    // A soft bounce first: nothing changes.
    feed(&app, ses_event("Bounce", "Transient", "Bob.Norman@hostmail.com")).await;
    assert_eq!(app.cli(&["suppressions"]).await.unwrap(), "at\treason\temail\tdetail", "no address is suppressed: the header alone");
    // Then a hard one, with the address as the server wrote it.
    feed(&app, ses_event("Bounce", "Permanent", "Bob.Norman@Hostmail.com")).await;
    let listed = app.cli(&["suppressions"]).await.unwrap();
    assert!(listed.contains(CUSTOMER) && listed.contains("bounce") && listed.contains("550 5.1.1"), "{listed}");

    // The vendor ships: the customer's shipping mail is skipped, the operator's and
    // vendor's mail is not affected.
    let (_, page, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    let id = page["orders"][0]["id"].as_str().unwrap().to_string();
    app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &key, Some(json!({"tracking_number": "1Z5R89390357567127"}))).await;
    assert_eq!(status, 200);
    assert_eq!(mails_to(&app, CUSTOMER).await.len(), 1, "no shipping mail to a bounced address");
    let events = app.local.app.tables.events(&dropflow_shared::domain::ids::OrderId::parse(&id).unwrap()).await.unwrap();
    let shipped = events.iter().find(|e| e.event_type == dropflow_shared::domain::events::EventType::Shipped).expect("a shipped event");
    assert_eq!(
        app.local.app.tables.sent_message_id(&shipped.event_id, CUSTOMER).await.unwrap().as_deref(),
        Some("suppressed:bounce"),
        "the skip is recorded as the mail's outcome"
    );

    // The operator lifts it: the next mail goes out.
    assert!(app.cli(&["suppressions", "remove", CUSTOMER]).await.unwrap().contains("mailed again"));
    app.vendor(Method::POST, &format!("/vendor/orders/{id}/delivered"), &key, Some(json!({}))).await;
    assert_eq!(mails_to(&app, CUSTOMER).await.len(), 2, "the delivery mail");
}

async fn a_complaint_suppresses_and_junk_on_the_queue_is_parked_not_obeyed(backend: Backend) {
    let app = spawn_app(backend).await;
    let complaint = json!({ "notificationType": "Complaint", "complaint": { "complainedRecipients": [{ "emailAddress": "eve@x.example" }], "complaintFeedbackType": "abuse" }, "mail": { "messageId": "m" } });
    feed(&app, complaint.to_string()).await;
    assert!(app.cli(&["suppressions", "list"]).await.unwrap().contains("\tcomplaint\teve@x.example\tabuse"));
    // Something that is neither SES feedback nor an event is set aside with its reason.
    feed(&app, json!({ "eventType": "Bounce" }).to_string()).await;
    let dead: Value = serde_json::from_str(&app.cli(&["dlq", "list", "--json"]).await.unwrap()).unwrap();
    assert_eq!(dead.as_array().map(|letters| letters.iter().filter(|l| l["queue"] == "notify").count()), Some(1), "{dead}");
    // The operator reads it, finds it junk, and drops it with a reason.
    let letter = dead.as_array().unwrap().iter().find(|l| l["queue"] == "notify").unwrap();
    let id = letter["id"].as_str().unwrap();
    assert!(letter["reason"].as_str().is_some_and(|r| !r.is_empty()) && letter["first_seen"].is_string(), "{letter}");
    let text = app.cli(&["dlq", "list"]).await.unwrap();
    assert!(text.starts_with("id\tqueue\treason\tbytes\tfirst_seen\n") && text.contains(&format!("{id}\tnotify\t")), "{text}");
    let body: Value = serde_json::from_str(&app.cli(&["dlq", "show", id]).await.unwrap()).unwrap();
    assert_eq!(body, json!({ "eventType": "Bounce" }), "the body as it would be replayed");
    assert!(app.cli(&["dlq", "discard", id, "--reason", " "]).await.unwrap_err().contains("--reason"), "a discard says why");
    let discarded = app.cli(&["dlq", "discard", id, "--reason", "not SES feedback"]).await.unwrap();
    assert!(discarded.contains(id) && discarded.contains("notify") && discarded.contains("not SES feedback"), "{discarded}");
    assert!(app.cli(&["dlq", "discard", id, "--reason", "again"]).await.unwrap_err().contains("no dead letter"), "gone once discarded");
    assert_eq!(app.cli(&["dlq", "list", "--json"]).await.unwrap().trim(), "[]");
}

on_both_backends!(a_bounced_address_gets_no_more_mail_and_the_skip_is_recorded, a_complaint_suppresses_and_junk_on_the_queue_is_parked_not_obeyed);
