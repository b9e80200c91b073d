//! `/openapi.json` is generated from the code and documents every route: the served
//! file is what the handlers and wire types generate (run with
//! `DROPFLOW_WRITE_OPENAPI=1` to rewrite it after a change), every routed (method, path)
//! is in it, and every path in it is routed.

use dropflow_scenarios::{Backend, spawn_app};
use dropflow_shared::http::{OPERATOR_ROUTES, VENDOR_ROUTES, WEBHOOK_ROUTES, openapi};
use serde_json::Value;

#[test]
fn the_served_document_is_the_one_the_code_generates() {
    let generated = openapi::generate();
    if std::env::var_os("DROPFLOW_WRITE_OPENAPI").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/openapi.json"), &generated).unwrap();
        return;
    }
    assert_eq!(openapi::DOCUMENT, generated, "shared/openapi.json is stale: run `DROPFLOW_WRITE_OPENAPI=1 cargo test -p dropflow-scenarios --test openapi`");
}

#[test]
fn every_route_is_documented_and_every_documented_path_is_routed() {
    let document: Value = serde_json::from_str(&openapi::generate()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
    let mut documented: Vec<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone())))
        .collect();
    let mut routed: Vec<(String, String)> = VENDOR_ROUTES
        .iter()
        .chain(WEBHOOK_ROUTES)
        .chain(OPERATOR_ROUTES)
        .filter(|(_, path)| *path != "/openapi.json")
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
    for schema in ["MoneyJson", "Problem", "VendorOrderJson", "OperatorOrderDetailJson"] {
        assert!(document["components"]["schemas"].get(schema).is_some(), "{schema}");
    }
}

/// The values a schema of the document lists (`enum`).
fn listed(document: &Value, schema: &str) -> Vec<String> {
    let values = document["components"]["schemas"][schema]["enum"].as_array().unwrap_or_else(|| panic!("{schema} lists its values"));
    values.iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
fn every_closed_set_the_document_lists_is_the_one_the_code_produces() {
    use dropflow_shared::domain::ledger::PayoutStatus;
    use dropflow_shared::domain::sla::ClockKind;
    use dropflow_shared::domain::vendor_order::{Actor, HistoryEntry, VoState};
    let document: Value = serde_json::from_str(&openapi::generate()).unwrap();
    let names = |values: &mut dyn Iterator<Item = &str>| values.map(str::to_string).collect::<Vec<_>>();
    assert_eq!(listed(&document, "OrderState"), names(&mut VoState::ALL.iter().map(|s| s.as_str())));
    assert_eq!(listed(&document, "ClockKind"), names(&mut ClockKind::ALL.iter().map(|k| k.as_str())));
    assert_eq!(listed(&document, "OverdueStep"), names(&mut ClockKind::ALL.iter().filter(|k| k.is_step()).map(|k| k.as_str())));
    assert_eq!(listed(&document, "PayoutState"), names(&mut [PayoutStatus::Pending, PayoutStatus::Paid].iter().map(|s| s.as_str())));
    assert_eq!(listed(&document, "GenericTopic"), names(&mut dropflow_shared::sources::generic::TOPICS.iter().copied()));
    let at = chrono::DateTime::UNIX_EPOCH;
    let actors = [Actor::Vendor(dropflow_shared::domain::ids::VendorId::parse("v").unwrap()), Actor::Operator, Actor::Storefront, Actor::System];
    let written: Vec<String> = actors
        .into_iter()
        .map(|actor| HistoryEntry { at, seq: 1, actor, action: "created".into(), state: VoState::AwaitingSupplier, detail: None })
        .map(|entry| serde_json::to_value(dropflow_shared::http::wire::HistoryJson::from(&entry)).unwrap()["actor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed(&document, "HistoryActor"), written);
    // Every mutation answers the order's version as its ETag.
    for action in ["supplier-order", "shipment", "delivered", "cancel"] {
        let ok = &document["paths"][format!("/vendor/orders/{{id}}/{action}")]["post"]["responses"]["200"];
        assert!(ok["headers"]["ETag"].is_object(), "{action}: {ok}");
    }
}

#[tokio::test]
async fn the_document_is_served() {
    let app = spawn_app(Backend::Embedded).await;
    let response = app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let served: Value = response.json().await.unwrap();
    assert_eq!(served["info"]["title"], "dropflow");
}
