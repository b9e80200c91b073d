//! Convergence: the storefront facts of a history, played again on two fresh apps (once
//! as they were sent, once shuffled, with some sent twice), end in the same state. A
//! storefront may deliver in any order and more than once (Shopify documents both), so
//! the order of arrival must never decide what a customer gets or what a vendor sends.
//!
//! The state compared is what the facts decide, line by line: how many units the order
//! keeps, who holds the line in an open vendor order (and to which address), or whether
//! it waits for the operator, and which refunds are recorded against it. How it got
//! there (a vendor order cancelled, or never made) is not compared.

use crate::model::{Delivery, World};
use dropflow_scenarios::{Backend, TestApp};
use dropflow_shared::domain::vendor_order::{LineRefund, VoState};
use dropflow_shared::ports::DeadLetterQueue;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Plays `sent` in order on one fresh app, and shuffled with duplicates (picked from
/// `seed`) on another, both at `at` (every stamp sent lies before it): the first line
/// whose fate differs.
pub async fn check(
    backend: Backend,
    sent: &[Delivery],
    numbers: &BTreeSet<String>,
    at: chrono::DateTime<chrono::Utc>,
    seed: u64,
) -> Result<(), (String, String)> {
    if sent.is_empty() {
        return Ok(());
    }
    let as_sent = replay(backend, sent.to_vec(), at, numbers).await;
    let mut rng = crate::Rng::new(seed ^ 0xC0_4E_46_E5);
    let mut shuffled = sent.to_vec();
    for _ in 0..=rng.below(3) {
        let again = shuffled[rng.below(shuffled.len() as u64) as usize].clone();
        shuffled.push(again);
    }
    // Fisher-Yates, from the history's seed.
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let reordered = replay(backend, shuffled.clone(), at, numbers).await;
    for (number, fate) in &as_sent {
        let other = reordered.get(number).cloned().unwrap_or(Value::Null);
        if *fate != other {
            if let Some(path) = std::env::var_os("DROPFLOW_SIM_DUMP") {
                let dump = |ds: &[Delivery]| ds.iter().map(|d| json!({"topic": d.topic, "body": String::from_utf8_lossy(&d.body)})).collect::<Vec<_>>();
                let _ = std::fs::write(path, json!({"at": at, "as_sent": dump(sent), "reordered": dump(&shuffled)}).to_string());
            }
            let order: Vec<String> = shuffled.iter().map(|d| d.topic.clone()).collect();
            return Err(("convergence".into(), format!("{number} ends as {fate} when delivered as sent, as {other} when delivered as {}", order.join(", "))));
        }
    }
    Ok(())
}

/// Plays `deliveries` on a fresh app at `at`, then lets what waits for a retry come
/// back: each order's fate by number.
async fn replay(backend: Backend, deliveries: Vec<Delivery>, at: chrono::DateTime<chrono::Utc>, numbers: &BTreeSet<String>) -> BTreeMap<String, Value> {
    let app = dropflow_scenarios::spawn_app_at(backend, at, None, &[]).await;
    World::onboard(&app, backend).await;
    for delivery in &deliveries {
        World::post(&app, delivery).await;
    }
    crate::settle(&app).await;
    let mut fates = BTreeMap::new();
    // The same deliveries are left in the dead letters, in either order: only an order
    // too large to store, on purpose (parked again by each delivery of it, and the
    // reason names whichever item of it would not fit first).
    let mut dead = BTreeSet::new();
    for queue in [DeadLetterQueue::Intake, DeadLetterQueue::Notify] {
        for letter in app.local.queues.dead_letters(queue).await.unwrap_or_default() {
            let body: String = letter.body.lines().nth(1).unwrap_or_default().chars().take(120).collect();
            dead.insert(format!("{}: {body}", queue.as_str()));
        }
    }
    fates.insert("(dead letters)".to_string(), json!(dead));
    for number in numbers {
        fates.insert(number.clone(), fate(&app, number).await);
    }
    fates
}

/// What the facts decided for order `number`: per line, the units kept, where it is
/// (the vendor holding it in an open vendor order and the street it goes to, waiting,
/// or nowhere) and the refunds recorded against it.
async fn fate(app: &TestApp, number: &str) -> Value {
    let tables = &app.local.app.tables;
    let ids = dropflow_shared::services::operator::find_orders(&app.local.app, number).await.unwrap_or_default();
    let Some(id) = ids.first() else { return json!("not stored") };
    let Some(record) = tables.order(id).await.ok().flatten() else { return json!("gone") };
    if record.is_redacted() {
        return json!("erased");
    }
    let vos = tables.vendor_orders_of(id).await.unwrap_or_default();
    let mut lines = BTreeMap::new();
    for line in &record.order.lines {
        let holders: Vec<Value> = vos
            .iter()
            .filter(|vo| vo.state != VoState::Cancelled)
            .flat_map(|vo| vo.lines.iter().filter(|l| l.line.line_id == line.line_id).map(move |l| (vo, l)))
            .filter(|(_, l)| l.line.quantity > 0)
            .map(|(vo, l)| json!({"vendor": vo.vendor_id.to_string(), "units": l.line.quantity, "to": vo.shipping_address.line1}))
            .collect();
        let waiting = record.unroutable.iter().any(|u| u.line_id == line.line_id);
        // Each refund once, wherever it is kept (the vendor order that held the line
        // when it came, or the order). Which of two refunds of one unit is applied may
        // follow their order of arrival (the other goes to the operator); how much is
        // refunded may not.
        let refunds: BTreeMap<&str, LineRefund> = vos
            .iter()
            .flat_map(|vo| vo.refunds.iter())
            .chain(&record.refunds)
            .filter(|r| r.line_id == line.line_id)
            .map(|r| (r.refund_id.as_str(), r.clone()))
            .collect();
        let refunded: Vec<LineRefund> = refunds.values().cloned().collect();
        // Refunded in full, the line is settled: whether a vendor order still lists it
        // (the refund came after routing) or never did (before) is how, not what.
        let settled = dropflow_shared::domain::refund::refunded_in_full(line, &refunded);
        lines.insert(
            line.line_id.clone(),
            json!({"units": line.quantity, "held": if settled { Vec::new() } else { holders }, "waiting": waiting && line.quantity > 0 && !settled,
                "refunded": refunded.iter().map(|r| r.amount.minor).sum::<i64>()}),
        );
    }
    json!({"payment": format!("{:?}", record.order.payment), "lines": lines})
}
