//! The mail the SLA clocks and the carrier feed call for (DESIGN, "SLA policy"): who
//! gets what when a clock fires. The notifier sends it; this module only says it.

use crate::config::Config;
use crate::domain::events::{CarrierNews, ClockFired, Digest, Envelope, EventType};
use crate::domain::sla::ClockKind;
use crate::domain::vendor_order::VendorOrder;
use crate::mail::Recipient;
use crate::mail::{Action, Message, Section};
use chrono::{DateTime, Utc};

fn when(instant: DateTime<Utc>) -> String {
    instant.format("%a %d %b %Y %H:%M UTC").to_string()
}

fn day(instant: DateTime<Utc>) -> String {
    instant.format("%a %d %b %Y").to_string()
}

/// A mail about `vo` whose one section is its items, as most clock mail is.
fn about_items(vo: &VendorOrder, subject: String, heading: String, intro: Vec<String>) -> Message {
    Message { subject, heading, intro, sections: vec![items(vo)], action: None }
}

fn items(vo: &VendorOrder) -> Section {
    Section {
        links: Vec::new(),
        title: "Items".into(),
        rows: vec![],
        lines: vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect(),
    }
}

/// The recipients of one clock or carrier event and what each is told: (to, message).
/// `vendor` is the vendor; `customer` the customer, when the order has an address. An
/// error when the event's payload does not read as its type.
pub fn compose(
    event: &Envelope,
    vo: &VendorOrder,
    vendor: Recipient,
    customer: Option<Recipient>,
    config: &Config,
) -> Result<Vec<(Recipient, Message)>, serde_json::Error> {
    let to_vendor = |message: Message| vec![(vendor.clone(), message)];
    if matches!(event.event_type, EventType::TrackingException | EventType::TrackingUpdated) {
        let news: CarrierNews = event.payload_as()?;
        let told = customer.zip(carrier_news(vo, &news, &config.store_name));
        // A problem: the vendor and the operator too. Other news (a parcel at a pickup
        // point): the customer alone.
        if event.event_type == EventType::TrackingUpdated {
            return Ok(told.into_iter().collect());
        }
        let message = carrier_exception(vo, &news);
        let mut mail = vec![(vendor.clone(), message.clone()), (Recipient::Operator(config.operator_email.to_string()), message)];
        mail.extend(told);
        return Ok(mail);
    }
    let fired: ClockFired = event.payload_as()?;
    Ok(match (event.event_type, fired.clock) {
        (EventType::SlaReminder, Some(ClockKind::PlaceReminder | ClockKind::PlaceWithSupplier)) => to_vendor(place_reminder(vo, fired.deadline)),
        (EventType::SlaReminder, Some(ClockKind::TrackingStale)) => to_vendor(chase_supplier(vo, fired.last_news_at, fired.dispute_open)),
        (EventType::SlaBreached, Some(kind)) if fired.repeat => to_vendor(still_overdue(vo, kind, fired.due_at, event.occurred_at)),
        (EventType::SlaBreached, Some(ClockKind::Ship)) => {
            let mut mail = to_vendor(ship_overdue(vo, fired.due_at));
            // The date the customer is given is a clock (`ship_promised`).
            let expected = fired.promised.unwrap_or_else(|| config.sla.add_business_days(event.occurred_at, config.sla.ship_business_days));
            mail.extend(customer.map(|to| (to, not_shipped_yet(vo, expected, &config.store_name))));
            mail
        }
        (EventType::SlaBreached, Some(kind @ (ClockKind::ShipPromised | ClockKind::DeliveryPromised))) => {
            customer.map(|to| vec![(to, promise_broken(vo, kind, fired.promised, &config.store_name))]).unwrap_or_default()
        }
        // A missed supplier-order deadline is the operator's, in the sweep's digest.
        (EventType::SlaBreached, _) => Vec::new(),
        (EventType::DeliveryDelayed, _) => {
            let by = fired.promised.unwrap_or(event.occurred_at + chrono::Duration::days(crate::domain::sla::DELIVERY_GRACE_DAYS));
            customer.map(|to| vec![(to, delivery_late(vo, by, &config.store_name))]).unwrap_or_default()
        }
        (EventType::RefundWindowClosing, _) => to_vendor(refund_window_closing(vo, fired.closes_at)),
        // An older notice carries no `stale`: it was only sent when tracking was.
        (EventType::DisputeWindowOpen, _) => to_vendor(dispute_open(vo, fired.last_news_at, fired.stale.unwrap_or(true), &config.sla)),
        _ => Vec::new(),
    })
}

fn place_reminder(vo: &VendorOrder, deadline: Option<DateTime<Utc>>) -> Message {
    let by = deadline.map(when).unwrap_or_else(|| "as soon as possible".into());
    about_items(
        vo,
        format!("Reminder: order {} from your supplier by {by}", vo.order_number),
        format!("Order {} is not ordered from the supplier yet", vo.order_number),
        vec![
            format!("Order these items from your supplier by {by}. After that the order is late and the marketplace is told."),
            "Then record the supplier order in your dashboard.".into(),
        ],
    )
}

/// An escalation repeated (`SLA_ESCALATION_REPEAT_HOURS`): the step is still not done,
/// and how late it is now.
fn still_overdue(vo: &VendorOrder, kind: ClockKind, deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Message {
    let late = deadline.map(|d| now - d).unwrap_or_default();
    let (days, hours) = (late.num_days(), late.num_hours() % 24);
    let late = if days > 0 { format!("{days} day{} {hours} h", if days == 1 { "" } else { "s" }) } else { format!("{hours} h") };
    let (what, ask) = match kind {
        ClockKind::PlaceWithSupplier => (
            "is still not ordered from the supplier",
            "Order it now and record the supplier order in your dashboard, or cancel the order there if you cannot.".to_string(),
        ),
        ClockKind::Ship => (
            "has still not shipped",
            "Ask the supplier when it will ship and record the tracking number in your dashboard, or cancel the order there.".to_string(),
        ),
        _ => (
            "has still not been delivered",
            "Ask the supplier and the carrier where the parcel is; if it is lost, arrange a replacement or a refund with the marketplace.".to_string(),
        ),
    };
    about_items(
        vo,
        format!("Order {} {what}: {late} late", vo.order_number),
        format!("Order {} {what}", vo.order_number),
        vec![
            format!(
                "It was due {}, and is now {late} late. The marketplace is told too, and both of you hear again until it is done.",
                deadline.map(when).unwrap_or_default()
            ),
            ask,
        ],
    )
}

fn ship_overdue(vo: &VendorOrder, due: Option<DateTime<Utc>>) -> Message {
    let reference = vo.supplier_order_ref.clone().unwrap_or_default();
    about_items(
        vo,
        format!("Order {} is late to ship", vo.order_number),
        format!("Order {} should have shipped by {}", vo.order_number, due.map(when).unwrap_or_default()),
        vec![
            format!(
                "The supplier order {reference} has not shipped. Ask the supplier when it will, and record the tracking number in your dashboard as soon as you have it."
            ),
            "The customer has been told the order is delayed, and the marketplace has been told it is late.".into(),
        ],
    )
}

/// The customer's delay mail before shipment: it says the order is being prepared, never
/// that it has shipped, and gives the new expectation.
fn not_shipped_yet(vo: &VendorOrder, expected: DateTime<Utc>, store_name: &str) -> Message {
    about_items(
        vo,
        format!("Order {} is taking longer than expected", vo.order_number),
        format!("We're sorry, {}: order {} is delayed", vo.customer_name, vo.order_number),
        vec![
            "Your order is still being prepared by its maker and has not shipped yet. We are sorry for the wait.".into(),
            format!("We now expect it to ship by {}, and we will email you the tracking number as soon as it does.", day(expected)),
            format!("If you would rather not wait, reply to this email and {store_name} will help."),
        ],
    )
}

/// The customer's mail of a parcel later than promised; `by` is the date after which
/// they are to write (kept as a clock: if it passes, they hear again).
fn delivery_late(vo: &VendorOrder, by: DateTime<Utc>, store_name: &str) -> Message {
    let tracking = vo.shipments.iter().filter(|s| s.delivered_at.is_none()).map(|s| &s.tracking).next().or(vo.tracking.as_ref());
    let rows = tracking.map(|t| vec![("Carrier".to_string(), t.carrier.to_string()), ("Tracking number".into(), t.number.clone())]).unwrap_or_default();
    Message {
        subject: format!("Order {} is taking longer to arrive", vo.order_number),
        heading: format!("We're sorry, {}: order {} has not arrived yet", vo.customer_name, vo.order_number),
        intro: vec![
            "Your parcel is on its way, but later than we promised. We are following it up.".into(),
            format!("If it has not arrived by {}, reply to this email and {store_name} will put it right.", day(by)),
        ],
        sections: vec![Section { links: Vec::new(), title: "Tracking".into(), rows, lines: vec![] }, items(vo)],
        action: tracking.and_then(|t| t.link()).map(|url| Action { label: "Track your parcel".into(), url }),
    }
}

/// The customer's mail of a date we gave that passed with the step still not done: we
/// say so plainly, and what they can do (wait, or have it refunded).
fn promise_broken(vo: &VendorOrder, kind: ClockKind, promised: Option<DateTime<Utc>>, store_name: &str) -> Message {
    let date = promised.map(day).unwrap_or_default();
    let (subject, what) = if kind == ClockKind::ShipPromised {
        (
            format!("Order {} has still not shipped", vo.order_number),
            format!("We told you we expected your order to ship by {date}, and it has not shipped yet."),
        )
    } else {
        (format!("Order {} has still not arrived", vo.order_number), format!("We told you to expect your parcel by {date}, and it has not been delivered yet."))
    };
    Message {
        subject,
        heading: format!("We're sorry, {}: order {} is still on its way to you", vo.customer_name, vo.order_number),
        intro: vec![
            what,
            "We are chasing it with the supplier, and the marketplace's team is looking into it too.".into(),
            format!("If you would rather not wait any longer, reply to this email and {store_name} will refund you."),
        ],
        sections: vec![items(vo)],
        action: None,
    }
}

/// The vendor asked to chase the supplier, with what to ask.
fn chase_supplier(vo: &VendorOrder, last_news: Option<DateTime<Utc>>, dispute_open: bool) -> Message {
    let numbers = vo.shipments.iter().filter(|s| s.delivered_at.is_none()).map(|s| format!("{} {}", s.tracking.carrier, s.tracking.number)).collect();
    let mut intro = vec![
        format!(
            "No carrier news of order {} since {}. Please ask the supplier ({}):",
            vo.order_number,
            last_news.map(when).unwrap_or_default(),
            vo.supplier_order_ref.clone().unwrap_or_default()
        ),
        "1. Is the tracking number right, and with which carrier?".into(),
        "2. Was the parcel handed to the carrier, and when?".into(),
        "3. If it was sent again, what is the new tracking number? Record it on the order.".into(),
    ];
    if dispute_open {
        intro.push("The supplier's dispute window is open: if the supplier cannot say where the parcel is, you may open a dispute now.".into());
    }
    Message {
        subject: format!("Order {}: tracking has gone quiet, chase your supplier", vo.order_number),
        heading: format!("Order {}: no tracking news", vo.order_number),
        intro,
        sections: vec![Section { links: Vec::new(), title: "Parcels".into(), rows: vec![], lines: numbers }],
        action: None,
    }
}

fn refund_window_closing(vo: &VendorOrder, closes: Option<DateTime<Utc>>) -> Message {
    let closes = closes.map(when).unwrap_or_default();
    about_items(
        vo,
        format!("Order {}: the supplier's refund window closes {closes}", vo.order_number),
        format!("Order {} is not delivered, and the supplier's refund window is closing", vo.order_number),
        vec![
            format!("The supplier takes refund requests for order {} until {closes}.", vo.supplier_order_ref.clone().unwrap_or_default()),
            if vo.shipped_at.is_some() || !vo.shipments.is_empty() {
                "If the parcel is not moving, ask the supplier for a refund before then; afterwards it may refuse.".into()
            } else {
                "It has not shipped yet: ask the supplier when it will, and if it cannot ship it, ask for a refund before then; afterwards it may refuse."
                    .into()
            },
        ],
    )
}

/// The supplier's dispute window is open (`SLA_DISPUTE_OPENS_DAYS` after shipment): with
/// stale tracking, open a dispute now; with tracking that moves, nothing to do yet, and
/// what to do if it stops. (A notice of an older version carries no `stale`: stale, as
/// it was only sent then.)
fn dispute_open(vo: &VendorOrder, last_news: Option<DateTime<Utc>>, stale: bool, policy: &crate::domain::sla::SlaPolicy) -> Message {
    let reference = vo.supplier_order_ref.clone().unwrap_or_default();
    let last = last_news.map(when).unwrap_or_default();
    let (subject, heading, intro) = if stale {
        (
            format!("Order {}: you can open a dispute with the supplier", vo.order_number),
            format!("Order {}: tracking is stale and the dispute window is open", vo.order_number),
            vec![
                format!("There has been no carrier news since {last}."),
                format!("You may open a dispute with the supplier for order {reference} now, while the window is open."),
            ],
        )
    } else {
        (
            format!("Order {}: the supplier's dispute window is open", vo.order_number),
            format!("Order {}: the supplier's dispute window is open", vo.order_number),
            vec![
                format!("The carrier last reported the parcel at {last}: it is moving, so there is nothing to do now."),
                format!(
                    "If the parcel is not moving (no carrier news for {} business days) or does not arrive, open a dispute with the supplier for order {reference} while the window is open.",
                    policy.tracking_stale_business_days
                ),
            ],
        )
    };
    Message { subject, heading, intro, sections: vec![items(vo)], action: None }
}

fn carrier_exception(vo: &VendorOrder, news: &CarrierNews) -> Message {
    let checkpoint = &news.checkpoint;
    let rows = vec![
        ("Tracking number".to_string(), checkpoint.tracking_number.clone()),
        ("Carrier says".into(), checkpoint.tag.clone()),
        ("Message".into(), checkpoint.message.clone().unwrap_or_default()),
        ("Location".into(), checkpoint.location.clone().unwrap_or_default()),
    ];
    Message {
        subject: format!("Order {}: the carrier reports a problem", vo.order_number),
        heading: format!("Order {}: a parcel is in trouble", vo.order_number),
        intro: vec![format!(
            "The carrier reports a problem with a parcel of order {} (vendor {}). Contact the carrier or the supplier to get it moving, or arrange a replacement.",
            vo.order_number, vo.vendor_id
        )],
        sections: vec![Section { links: Vec::new(), title: "Carrier news".into(), rows, lines: vec![] }],
        action: None,
    }
}

/// The customer's mail of what the carrier said, in words (never the feed's tags): a
/// parcel waiting at a pickup point, a failed delivery attempt, a problem. None for news
/// the customer need not hear of (a parcel moving on, or the same news again).
fn carrier_news(vo: &VendorOrder, news: &CarrierNews, store_name: &str) -> Option<Message> {
    if news.again {
        return None;
    }
    let checkpoint = &news.checkpoint;
    let place = checkpoint.location.as_deref().filter(|l| !l.trim().is_empty());
    let number = checkpoint.tracking_number.as_str();
    let tracking = vo.shipments.iter().map(|s| &s.tracking).find(|t| t.number.eq_ignore_ascii_case(number)).or(vo.tracking.as_ref());
    let (subject, heading, intro) = match checkpoint.tag.as_str() {
        "AvailableForPickup" => (
            format!("Order {}: your parcel is waiting for you", vo.order_number),
            format!("{}, your parcel is waiting for you to collect it", vo.customer_name),
            vec![
                match place {
                    Some(place) => format!("The carrier left your parcel of order {} waiting for you at {place}.", vo.order_number),
                    None => {
                        format!("The carrier left your parcel of order {} waiting for you at a pickup point; the tracking page says which.", vo.order_number)
                    }
                },
                "Take the tracking number and proof of who you are when you collect it; pickup points keep parcels for a limited time.".into(),
            ],
        ),
        "AttemptFail" => (
            format!("Order {}: the carrier tried to deliver", vo.order_number),
            format!("{}, the carrier tried to deliver your parcel", vo.customer_name),
            vec![
                format!(
                    "The carrier tried to deliver your parcel of order {}{} but could not hand it over.",
                    vo.order_number,
                    place.map(|p| format!(" ({p})")).unwrap_or_default()
                ),
                format!(
                    "Carriers usually try again or leave a note saying where to collect it. If you need help, reply to this email and {store_name} will sort it out."
                ),
            ],
        ),
        "Exception" | "Expired" => (
            format!("Order {}: a problem with the delivery", vo.order_number),
            format!("{}, there is a problem with your delivery", vo.customer_name),
            vec![
                format!("The carrier reports a problem delivering your parcel of order {}. We are on it, with the carrier and the supplier.", vo.order_number),
                format!("We will email you as soon as it is moving again. If you have a question meanwhile, reply to this email and {store_name} will answer."),
            ],
        ),
        _ => return None,
    };
    let rows = tracking.map(|t| vec![("Carrier".to_string(), t.carrier.to_string()), ("Tracking number".into(), t.number.clone())]).unwrap_or_default();
    Some(Message {
        subject,
        heading,
        intro,
        sections: vec![Section { links: Vec::new(), title: "Tracking".into(), rows, lines: vec![] }, items(vo)],
        action: tracking.and_then(|t| t.link()).map(|url| Action { label: "Track your parcel".into(), url }),
    })
}

/// The operator's digest: every escalation of one sweep commit, how late each is.
pub fn digest(event: &Envelope) -> Result<Message, serde_json::Error> {
    let escalations = event.payload_as::<Digest>()?.escalations;
    let lines = escalations
        .iter()
        .map(|e| {
            let late = event.occurred_at - e.due_at;
            format!(
                "{} {} ({}): {} due {}, late by {}h{:02}m",
                e.vendor_id,
                e.order_number,
                e.vendor_order,
                e.clock.as_str(),
                when(e.due_at),
                late.num_hours(),
                late.num_minutes() % 60
            )
        })
        .collect();
    Ok(Message {
        subject: format!("SLA digest: {} escalation{}", escalations.len(), if escalations.len() == 1 { "" } else { "s" }),
        heading: "Orders past their deadline".into(),
        intro: vec!["These clocks ran out at the last sweep. The vendors were reminded and customers told where it applies; each may need you.".into()],
        sections: vec![Section { links: Vec::new(), title: "Escalations (vendor, order, clock, due, late by)".into(), rows: vec![], lines }],
        action: None,
    })
}
