//! The notifier: turns each event into the emails it calls for and sends each one once
//! per (event, recipient): claim the sent marker with a lease, send, mark it sent. A
//! failed send gives the claim back; a crash between claim and mark leaves a lease that
//! ends, after which a redelivery sends it, so no mail is lost. The one duplicate left
//! is a crash after the provider accepted and before the mark (SES has no idempotency
//! key).

use super::{App, ServiceError};
use crate::domain::events::{Envelope, EventType};
use crate::domain::vendor_order::VendorOrder;
use crate::mail::{Action, Message, Section};
use crate::ports::Sender;
use crate::store::{Claim, OrderRecord};
use chrono::{DateTime, Utc};

/// How long sent markers are kept (well beyond any redelivery or replay).
const SENT_MARKER_DAYS: i64 = 90;

/// Sends the emails of `event`; returns how many were sent now.
pub async fn handle(app: &App, event: &Envelope) -> Result<usize, ServiceError> {
    if event.event_type == EventType::RedactionDue {
        // Not mail: the order's last vendor order on its way closed, so its redaction,
        // which waited for that, is carried out now (the notify queue is the event bus).
        let order_id = event.order_id.as_ref().ok_or_else(|| missing("order", event))?;
        super::privacy::on_redaction_due(app, order_id).await?;
        return Ok(0);
    }
    let mut sent = 0;
    let (mut busy, mut failed) = (None, None);
    let from = Sender::new(&app.config.store_name, app.config.sender_email.as_str());
    // A claim is held as long as a send can take at worst, so a claim left by a process
    // that died is free again soon after (its message comes back when the claim ends).
    let lease = chrono::Duration::from_std(app.mailer.claim_lease()).unwrap_or(chrono::Duration::seconds(90));
    // What the order held before composing, for a mailer whose copies a concurrent
    // redaction must reach (`privacy::erase_late_copies`).
    let before = match (&event.order_id, app.mailer.keeps_copies()) {
        (Some(order_id), true) => app.tables.order(order_id).await?,
        _ => None,
    };
    for (to, message) in compose(app, event).await? {
        let now = app.clock.now();
        let version = match app.tables.claim_sent(&event.event_id, &to, now, lease, SENT_MARKER_DAYS).await? {
            Claim::Taken { version } => version,
            Claim::AlreadySent => continue,
            Claim::Busy { until } => {
                busy = Some(until);
                continue;
            }
        };
        // An address that bounced for good or complained gets nothing more; the skip is
        // recorded as the mail's outcome (`suppressed:{reason}` for its message id).
        if let Some(suppression) = app.tables.suppression(&to).await? {
            app.tables.mark_sent(&event.event_id, &to, version, &format!("suppressed:{}", suppression.reason), app.clock.now(), SENT_MARKER_DAYS).await?;
            crate::metrics::count(crate::metrics::Metric::MailsSkipped, 1);
            tracing::info!(event_id = %event.event_id, reason = %suppression.reason, "mail to a suppressed address skipped");
            continue;
        }
        let outcome = match message.render(&app.config.store_name, &to, &format!("{}#{to}", event.event_id)) {
            Ok(mut mail) => {
                mail.order_id = event.order_id.clone();
                app.mailer.send(&from, &mail).await.map_err(|e| ServiceError::Mail(e.to_string()))
            }
            Err(e) => Err(ServiceError::Mail(format!("template: {e}"))),
        };
        match outcome {
            Ok(message_id) => {
                app.tables.mark_sent(&event.event_id, &to, version, &message_id, app.clock.now(), SENT_MARKER_DAYS).await?;
                sent += 1;
            }
            Err(error) => {
                app.tables.release_sent(&event.event_id, &to, version, app.clock.now()).await?;
                failed = Some(error);
                break;
            }
        }
    }
    crate::metrics::count(crate::metrics::Metric::MailsSent, sent);
    if let (Some(before), true) = (&before, sent > 0) {
        super::privacy::erase_late_copies(app, before).await?;
    }
    if let Some(error) = failed {
        return Err(error);
    }
    // After the customer's mail, so that a carrier feed's outage never holds it back; a
    // failed registration retries the event, whose mail is marked sent by then.
    if event.event_type == EventType::Shipped {
        register_parcel(app, event).await?;
    }
    match busy {
        // Another delivery is sending one of these mails right now (or died doing so):
        // try again once its lease has ended.
        Some(until) => Err(ServiceError::Busy { reason: format!("a mail of event {} is claimed until {until}", event.event_id), until: Some(until) }),
        None => Ok(sent),
    }
}

/// A shipped parcel registered with the carrier feed (AfterShip pushes only what it was
/// told of), once: the registration is claimed and marked like a mail to the feed.
async fn register_parcel(app: &App, event: &Envelope) -> Result<(), ServiceError> {
    let Some(feed) = &app.tracking_feed else { return Ok(()) };
    let vo = vendor_order(app, event).await?;
    let number = event.payload["tracking_number"].as_str();
    let Some(tracking) = vo.shipments.iter().map(|s| &s.tracking).find(|t| Some(t.number.as_str()) == number).or(vo.tracking.as_ref()) else { return Ok(()) };
    let to = format!("tracking-feed:{}", tracking.number);
    let lease = chrono::Duration::seconds(30);
    let version = match app.tables.claim_sent(&event.event_id, &to, app.clock.now(), lease, SENT_MARKER_DAYS).await? {
        Claim::Taken { version } => version,
        Claim::AlreadySent => return Ok(()),
        Claim::Busy { until } => return Err(ServiceError::Busy { reason: format!("parcel {} is being registered", tracking.number), until: Some(until) }),
    };
    match feed.register(&tracking.number, &tracking.carrier).await {
        Ok(()) => Ok(app.tables.mark_sent(&event.event_id, &to, version, "registered", app.clock.now(), SENT_MARKER_DAYS).await?),
        Err(error) => {
            app.tables.release_sent(&event.event_id, &to, version, app.clock.now()).await?;
            Err(ServiceError::Mail(format!("registering parcel {}: {error}", tracking.number)))
        }
    }
}

fn missing(what: &str, event: &Envelope) -> ServiceError {
    ServiceError::NotFound(format!("{what} of event {} not found", event.event_id))
}

async fn order(app: &App, event: &Envelope) -> Result<OrderRecord, ServiceError> {
    let order_id = event.order_id.as_ref().ok_or_else(|| missing("order", event))?;
    app.tables.order(order_id).await?.ok_or_else(|| missing("order", event))
}

async fn vendor_order(app: &App, event: &Envelope) -> Result<VendorOrder, ServiceError> {
    let vendor = event.vendor_id.as_ref().ok_or_else(|| missing("vendor", event))?;
    let order_id = event.order_id.as_ref().ok_or_else(|| missing("order", event))?;
    app.tables.vendor_order_in_round(order_id, vendor, event.round.unwrap_or(1)).await?.ok_or_else(|| missing("vendor order", event))
}

fn when(instant: DateTime<Utc>) -> String {
    instant.format("%a %d %b %Y %H:%M UTC").to_string()
}

/// The emails an event calls for: (recipient, message).
async fn compose(app: &App, event: &Envelope) -> Result<Vec<(String, Message)>, ServiceError> {
    let operator = app.config.operator_email.to_string();
    Ok(match event.event_type {
        EventType::OrderAccepted => {
            let record = order(app, event).await?;
            record.order.customer_email.iter().map(|to| (to.to_string(), order_confirmed(&record))).collect()
        }
        EventType::VendorOrderCreated => {
            let vo = vendor_order(app, event).await?;
            let vendor = app.tables.vendor(&vo.vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
            vec![(vendor.email.to_string(), supplier_brief(&vo))]
        }
        EventType::OrderUnroutable => vec![(operator, unroutable(&order(app, event).await?))],
        EventType::OrderParked => vec![(operator, parked(&order(app, event).await?, &event.payload))],
        EventType::Shipped | EventType::Delivered => {
            let vo = vendor_order(app, event).await?;
            let record = order(app, event).await?;
            let message = if event.event_type == EventType::Shipped { shipped(&vo, event.payload["tracking_number"].as_str()) } else { delivered(&vo) };
            record.order.customer_email.iter().map(|to| (to.to_string(), message.clone())).collect()
        }
        EventType::Cancelled if event.payload["by"] == "storefront" => {
            let vo = vendor_order(app, event).await?;
            let vendor = app.tables.vendor(&vo.vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
            vec![(vendor.email.to_string(), storefront_cancelled(&vo))]
        }
        EventType::Cancelled => {
            let vo = vendor_order(app, event).await?;
            let record = order(app, event).await?;
            let mut mail = vec![(operator, vendor_cancelled(&vo))];
            mail.extend(record.order.customer_email.iter().map(|to| (to.to_string(), cancelled_for_customer(&vo, &app.config.store_name))));
            mail
        }
        EventType::AddressChanged => {
            let vo = vendor_order(app, event).await?;
            let vendor = app.tables.vendor(&vo.vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
            vec![(vendor.email.to_string(), address_changed(&vo))]
        }
        EventType::LinesChanged => {
            let vo = vendor_order(app, event).await?;
            let vendor = app.tables.vendor(&vo.vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
            vec![(vendor.email.to_string(), lines_changed(&vo, &event.payload))]
        }
        EventType::OrderNeedsAttention => vec![(operator, needs_attention(&order(app, event).await?, &event.payload))],
        EventType::SlaReminder
        | EventType::SlaBreached
        | EventType::DeliveryDelayed
        | EventType::RefundWindowClosing
        | EventType::DisputeWindowOpen
        | EventType::TrackingException => {
            let vo = vendor_order(app, event).await?;
            let vendor = app.tables.vendor(&vo.vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
            let customer = match event.event_type {
                EventType::SlaBreached | EventType::DeliveryDelayed => order(app, event).await?.order.customer_email.map(|e| e.to_string()),
                _ => None,
            };
            super::clock_mail::compose(event, &vo, vendor.email.as_str(), customer.as_deref(), &app.config)
        }
        EventType::SlaDigest => vec![(operator, super::clock_mail::digest(event))],
        EventType::EarningsReleased | EventType::PayoutCreated | EventType::PayoutPaid => {
            let vendor_id = event.vendor_id.as_ref().ok_or_else(|| missing("vendor", event))?;
            let vendor = app.tables.vendor(vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
            let message = match event.event_type {
                EventType::EarningsReleased => earnings_released(&event.payload),
                _ => {
                    let payout_id = event.payload["payout_id"].as_str().unwrap_or_default();
                    let payout = app.tables.payout(payout_id).await?.ok_or_else(|| missing("payout", event))?;
                    payout_mail(&payout, event.event_type == EventType::PayoutPaid)
                }
            };
            vec![(vendor.email.to_string(), message)]
        }
        EventType::SkuClaimed => {
            let vendor_id = event.vendor_id.as_ref().ok_or_else(|| missing("vendor", event))?;
            vec![(operator, sku_claimed(vendor_id, event.payload["sku"].as_str().unwrap_or("?")))]
        }
        EventType::DataRequest if event.order_id.is_none() => vec![(operator, data_not_held(&event.payload))],
        EventType::DataRequest => {
            let record = order(app, event).await?;
            let vendor_orders = app.tables.vendor_orders_of(&record.order.order_id).await?;
            vec![(operator, data_request(&record, &vendor_orders, event.payload["request_id"].as_str().unwrap_or("?")))]
        }
        _ => Vec::new(),
    })
}

/// The operator's mail of a vendor's claim on a SKU that orders wait for: who, which
/// SKU, and the two commands that settle it. The SKU is the vendor's text: data only.
fn sku_claimed(vendor_id: &crate::domain::ids::VendorId, sku: &str) -> Message {
    Message {
        subject: format!("Vendor {vendor_id} claims a SKU that orders wait for"),
        heading: "A vendor claims a waiting SKU".into(),
        intro: vec![
            "Orders are waiting for this SKU. They go to the vendor, with their customers' addresses, only once you approve the claim.".into(),
            "Approve it with `dropflow product approve <SKU>`, or refuse it with `dropflow product refuse <SKU>` (the orders keep waiting).".into(),
        ],
        sections: vec![Section {
            links: Vec::new(),
            title: "Claim".into(),
            rows: vec![("Vendor".into(), vendor_id.to_string()), ("SKU".into(), sku.to_string())],
            lines: vec![],
        }],
        action: None,
    }
}

/// The vendor's mail of a release: how much became available, from which orders.
fn earnings_released(payload: &serde_json::Value) -> Message {
    let amount = payload["amount"].as_str().unwrap_or("?");
    let lines = payload["orders"]
        .as_array()
        .map(|orders| orders.iter().map(|o| format!("Order {}: {}", o["order_number"].as_str().unwrap_or("?"), o["amount"].as_str().unwrap_or("?"))).collect())
        .unwrap_or_default();
    Message {
        subject: format!("Earnings released: {amount}"),
        heading: format!("{amount} of your earnings is now available"),
        intro: vec!["The holding period of these delivered orders has ended. Their earnings are in your available balance and go out with your next payout (GET /vendor/balance).".into()],
        sections: vec![Section { links: Vec::new(), title: "Released".into(), rows: vec![("Amount".into(), amount.to_string())], lines }],
        action: None,
    }
}

/// The vendor's mail of a payout: created (what it covers), or transferred (the
/// operator's reference). Which one is the event's to say, not the payout's state when
/// the mail goes out: a payout marked paid before its `payout_created` mail was sent
/// still gets both mails, in their own words.
fn payout_mail(payout: &crate::domain::ledger::Payout, transferred: bool) -> Message {
    let mut rows = vec![("Payout".to_string(), payout.payout_id.clone()), ("Amount".into(), payout.amount.to_string())];
    let lines = payout.entries.iter().map(|e| format!("{} {}: {}", e.at.format("%Y-%m-%d"), e.detail, e.delta)).collect();
    let (subject, heading, intro) = match payout.reference.as_ref().filter(|_| transferred) {
        Some(reference) => {
            rows.push(("Transfer reference".into(), reference.clone()));
            (
                format!("Payout {} sent: {}", payout.payout_id, payout.amount),
                format!("{} is on its way to you", payout.amount),
                "The marketplace has transferred this payout. Allow your bank's usual time for it to arrive.".to_string(),
            )
        }
        None => (
            format!("Payout {} created: {}", payout.payout_id, payout.amount),
            format!("A payout of {} is being prepared", payout.amount),
            "Your available balance is in this payout. The marketplace sends it in its next payment run and emails you the transfer reference.".to_string(),
        ),
    };
    Message {
        subject,
        heading,
        intro: vec![intro],
        sections: vec![
            Section { links: Vec::new(), title: "Payout".into(), rows, lines: vec![] },
            Section { links: Vec::new(), title: "What it covers".into(), rows: vec![], lines },
        ],
        action: None,
    }
}

fn order_confirmed(record: &OrderRecord) -> Message {
    let order = &record.order;
    let lines = order
        .lines
        .iter()
        .map(|l| format!("{} x {}{} ({})", l.quantity, l.title, l.variant.as_ref().map(|v| format!(" - {v}")).unwrap_or_default(), l.paid))
        .collect();
    let mut sections = vec![Section { links: Vec::new(), title: "Your order".into(), rows: vec![("Total".into(), order.total.to_string())], lines }];
    if let Some(address) = &order.shipping_address {
        sections.push(Section { links: Vec::new(), title: "Shipping to".into(), rows: vec![], lines: address.lines() });
    }
    Message {
        subject: format!("Order {} confirmed", order.order_number),
        heading: format!("Thank you, {}: order {} is confirmed", order.customer_name, order.order_number),
        intro: vec!["We have your order and it is being prepared. We will email you the tracking number as soon as it ships.".into()],
        sections,
        action: None,
    }
}

fn supplier_brief(vo: &VendorOrder) -> Message {
    let deadline = vo.supplier_deadline().map(when).unwrap_or_else(|| "as soon as possible".into());
    let mut sections = vec![Section { links: Vec::new(), title: "Ship to".into(), rows: vec![], lines: vo.shipping_address.lines() }];
    for routed in &vo.lines {
        let (line, supplier) = (&routed.line, &routed.supplier);
        let mut rows = vec![
            ("SKU".to_string(), line.sku.as_ref().map(|s| s.to_string()).unwrap_or_default()),
            ("Quantity".into(), line.quantity.to_string()),
            ("Supplier".into(), supplier.supplier_name.clone()),
            ("Supplier cost".into(), supplier.supplier_cost.to_string()),
        ];
        rows.extend(supplier.supplier_variant.clone().or_else(|| line.variant.clone()).map(|v| ("Variant".to_string(), v)));
        rows.push(("Customer paid".into(), line.paid.to_string()));
        let title = format!("{}{}", line.title, line.variant.as_ref().map(|v| format!(" ({v})")).unwrap_or_default());
        let links = vec![Action { label: "Product URL".into(), url: supplier.product_url.clone() }];
        sections.push(Section { links, title, rows, lines: vec![] });
    }
    Message {
        subject: format!("New order {}: order from your supplier by {deadline}", vo.order_number),
        heading: format!("New order {} for {}", vo.order_number, vo.customer_name),
        intro: vec![
            format!("Order these items from your supplier by {deadline}, shipping straight to the customer's address below."),
            format!("Then record the supplier order: POST /vendor/orders/{}/supplier-order", vo.id()),
        ],
        sections,
        action: None,
    }
}

fn unroutable(record: &OrderRecord) -> Message {
    let lines = record
        .unroutable_lines()
        .map(|(line, reason)| {
            let sku = line.sku.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "no SKU".into());
            format!("{} x {} [{sku}] (line {}): {reason}", line.quantity, line.title, line.line_id)
        })
        .collect();
    Message {
        subject: format!("Order {} has lines no vendor sells", record.order.order_number),
        heading: format!("Order {} could not be fully routed", record.order.order_number),
        intro: vec![
            format!("Order {} ({} {}) is kept, but these lines have no vendor yet, for the reason given with each.", record.order.order_id, record.order.source, record.order.shop),
            "A line whose SKU nobody sells yet is routed by itself as soon as you map the SKU (`dropflow product add`): it joins the vendor's order if nothing was ordered from the supplier yet, or else goes to that vendor as an order of its own. For the other reasons, refund the line or hand it to a vendor yourself.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "Unroutable lines".into(), rows: vec![], lines }],
        action: None,
    }
}

fn parked(record: &OrderRecord, details: &serde_json::Value) -> Message {
    let order = &record.order;
    let rows = vec![
        ("Order".to_string(), format!("{} ({})", order.order_number, order.order_id)),
        ("Storefront".into(), format!("{} {}", order.source, order.shop)),
        ("Lines".into(), details["lines"].to_string()),
        ("Why".into(), details["reason"].as_str().unwrap_or_default().to_string()),
    ];
    Message {
        subject: format!("Order {} is too large to process automatically", order.order_number),
        heading: format!("Order {} needs a person", order.order_number),
        intro: vec![
            "The storefront's order was verified and is kept whole in the intake dead-letter queue (`dropflow dlq list`), but it is too large to store as one order, so no vendor has it yet.".into(),
            "Split it into smaller orders in the storefront, or hand its lines to the vendors yourself.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "The order".into(), rows, lines: vec![] }],
        action: None,
    }
}

fn storefront_cancelled(vo: &VendorOrder) -> Message {
    let placed = match &vo.supplier_order_ref {
        Some(reference) => format!("Cancel supplier order {reference} now, before it ships, and ask the supplier for a refund."),
        None => "You had not ordered from the supplier yet: do not.".into(),
    };
    Message {
        subject: format!("Order {} was cancelled: cancel the supplier order", vo.order_number),
        heading: format!("Order {} was cancelled by the store", vo.order_number),
        intro: vec![placed, "Nothing of this order is to be shipped.".into()],
        sections: vec![Section {
            links: Vec::new(),
            title: "Cancelled lines".into(),
            rows: vec![],
            lines: vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect(),
        }],
        action: None,
    }
}

fn address_changed(vo: &VendorOrder) -> Message {
    let intro = match &vo.supplier_order_ref {
        Some(reference) => format!("You ordered from the supplier already (order {reference}): ask the supplier to ship to the new address below."),
        None => "Order from the supplier with the new address below.".into(),
    };
    Message {
        subject: format!("Order {}: new shipping address", vo.order_number),
        heading: format!("Order {} now ships to a new address", vo.order_number),
        intro: vec![intro],
        sections: vec![Section { links: Vec::new(), title: "Ship to".into(), rows: vec![], lines: vo.shipping_address.lines() }],
        action: None,
    }
}

/// The vendor's notice of an order edit: what changed, line by line, what to send now,
/// and, when the supplier order was placed, that it must be amended. The changes are the
/// event's (what this edit did), the lines the order's as the mail goes out.
fn lines_changed(vo: &VendorOrder, details: &serde_json::Value) -> Message {
    let texts =
        |key: &str| -> Vec<String> { details[key].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default() };
    let amend = texts("amend");
    let intro = if amend.is_empty() {
        "You had not ordered these lines from the supplier yet: order them as they are now.".to_string()
    } else {
        format!("You ordered from the supplier already (order {}): amend that order to match, or cancel it and order again.", amend.join(", "))
    };
    Message {
        subject: format!("Order {} changed: its lines were edited", vo.order_number),
        heading: format!("Order {} was edited at the store", vo.order_number),
        intro: vec![intro],
        sections: vec![
            Section { links: Vec::new(), title: "What changed".into(), rows: vec![], lines: texts("changes") },
            Section {
                links: Vec::new(),
                title: "Send now".into(),
                rows: vec![],
                lines: vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect(),
            },
        ],
        action: None,
    }
}

fn needs_attention(record: &OrderRecord, details: &serde_json::Value) -> Message {
    if details["change"] == "refund" {
        return refund_to_split(record, details);
    }
    let number = &record.order.order_number;
    // The notes about one delivery of an order: what it was, what dropflow did, what to do.
    let note = |subject: String, heading: String, intro: [&str; 2], section: Section| Message {
        subject,
        heading,
        intro: intro.iter().map(|t| t.to_string()).collect(),
        sections: vec![section],
        action: None,
    };
    let section = |title: &str, rows: Vec<(String, String)>, lines: Vec<String>| Section { links: Vec::new(), title: title.into(), rows, lines };
    match details["change"].as_str() {
        Some("erased_before_arrival") => {
            return note(
                format!("Order {number} arrived after its customer's data was erased"),
                format!("Order {number}: nothing to ship to"),
                [
                    "The storefront asked to erase this customer's personal data before the order reached dropflow. The order is kept without it and was handed to no vendor.",
                    "If it was paid, refund or settle it with the customer at the store.",
                ],
                section("Items", vec![("Total".into(), record.order.total.to_string())], paid_lines(&record.order)),
            );
        }
        Some("unlinked_site") => {
            return note(
                format!("WooCommerce order {number} names no site"),
                format!("Order {number}: which WooCommerce site is it from?"),
                [
                    "This WooCommerce order came without its `_links` (its own REST address), under a webhook secret that several sites share, so nothing signed says which site sent it. It is kept and routed, filed under no site.",
                    "Give each site its own secret (`WOOCOMMERCE_WEBHOOK_SECRET` as `site=secret` pairs): the secret then names the site. Until then, a later delivery of this order that does carry its links is filed apart from this one; check the order's vendors before they ship it twice.",
                ],
                section(
                    "The order",
                    vec![("Order".into(), format!("{number} ({})", record.order.order_id)), ("WooCommerce id".into(), record.order.external_id.clone())],
                    vec![],
                ),
            );
        }
        Some("future_stamp") => {
            let stamp = |key: &str| details[key].as_str().unwrap_or("?").to_string();
            return note(
                format!("Order {number} was sent stamped in the future"),
                format!("Order {number}: a last-modified time not to be trusted"),
                [
                    "The storefront sent this order with a last-modified time in the future. dropflow kept it, but takes that version as of the time below, so that later versions of the order still count.",
                    "Check the storefront's clock, or the app or plugin that changed the order.",
                ],
                section("Stamps", vec![("Sent as".into(), stamp("stamped")), ("Taken as".into(), stamp("taken_as"))], vec![]),
            );
        }
        _ => {}
    }
    let change = match details["change"].as_str() {
        Some("cancelled") => "was cancelled",
        Some("lines_changed") => "had lines edited",
        _ => "has a new shipping address",
    };
    let describe = |v: &serde_json::Value| {
        let edited = v["lines"].as_array().map(|l| l.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("; ")).filter(|l| !l.is_empty());
        let state = format!("{}: {}", v["vendor_id"].as_str().unwrap_or("?"), v["state"].as_str().unwrap_or("?"));
        edited.map_or(state.clone(), |edited| format!("{state} ({edited})"))
    };
    let lines = details["vendor_orders"].as_array().map(|list| list.iter().map(describe).collect()).unwrap_or_default();
    // The address this change asked for (a later change's mail names its own).
    let mut sections = Vec::new();
    if let Some(address) = details["address"].as_array().filter(|a| !a.is_empty()) {
        let address = address.iter().filter_map(|l| l.as_str().map(str::to_string)).collect();
        sections.push(Section { links: Vec::new(), title: "New address".into(), rows: vec![], lines: address });
    }
    Message {
        subject: format!("Order {} {change} after part of it shipped", record.order.order_number),
        heading: format!("Order {} {change} at the storefront", record.order.order_number),
        intro: vec![
            "Every vendor order that had not shipped followed the change. These had shipped already and were left as they are: arrange a return, a refund or a redirect with the customer and the vendor.".into(),
        ],
        sections: [vec![Section { links: Vec::new(), title: "Already shipped".into(), rows: vec![], lines }], sections].concat(),
        action: None,
    }
}

/// The order's lines with what was paid for each, one per row.
fn paid_lines(order: &crate::domain::order::CanonicalOrder) -> Vec<String> {
    order.lines.iter().map(|l| format!("{} x {} ({})", l.quantity, l.title, l.paid)).collect()
}

/// A storefront refund dropflow could not apply by itself, with the reason: it named no
/// lines on an order of several (the operator splits it), or an amount was unreadable,
/// negative or more than was left on its line (the operator checks it with the store).
fn refund_to_split(record: &OrderRecord, details: &serde_json::Value) -> Message {
    let text = |key: &str| details[key].as_str().unwrap_or("unknown").to_string();
    let rows = vec![("Refund".to_string(), text("refund_id")), ("Amount".into(), text("amount")), ("Why it needs you".into(), text("reason"))];
    let lines = paid_lines(&record.order);
    let number = &record.order.order_number;
    let store = format!("{} {}", record.order.source, record.order.shop);
    let unsplit = text("reason") == "the storefront did not say which lines it was for";
    let (subject, intro) = if unsplit {
        (
            format!("Order {number} was refunded: split the refund over its lines"),
            vec![
                format!(
                    "The storefront ({store}) refunded part of order {number} but did not say which lines the money was for, so no vendor order carries it yet."
                ),
                "It is kept on the order with the reason. Decide which lines it covers and settle it with their vendors.".into(),
            ],
        )
    } else {
        (
            format!("Order {number}: a refund could not be applied"),
            vec![
                format!(
                    "The storefront ({store}) sent a refund of order {number} that dropflow did not apply as sent; the reason is below. Any line of it that could be read was applied."
                ),
                "What was not applied is kept on the order. Check the refund in the store, then settle it with the vendors concerned.".into(),
            ],
        )
    };
    Message {
        subject,
        heading: format!("A refund of order {number} needs you"),
        intro,
        sections: vec![
            Section { links: Vec::new(), title: "The refund".into(), rows, lines: vec![] },
            Section { links: Vec::new(), title: "The order's lines".into(), rows: vec![], lines },
        ],
        action: None,
    }
}

/// What dropflow holds of an order's customer, for the operator to answer a data
/// request with (a redacted order says so).
/// The operator's mail of a data request that names orders dropflow does not hold (or
/// none at all): the customer is still owed an answer, which is that nothing of these
/// is held here.
fn data_not_held(details: &serde_json::Value) -> Message {
    let request_id = details["request_id"].as_str().unwrap_or("?");
    let ids: Vec<String> =
        details["not_held"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(|id| format!("Order {id}"))).collect()).unwrap_or_default();
    let what = if ids.is_empty() { "names no order" } else { "names orders dropflow does not hold" };
    Message {
        subject: format!("Data request {request_id}: dropflow holds nothing of it"),
        heading: format!("A customer's data request {what}"),
        intro: vec![
            "The storefront forwarded a customer's request for the data held about them. dropflow holds nothing of what it names: no order, address or mail."
                .into(),
            "Answer the customer within the law's deadline with what the store itself holds.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "Not held".into(), rows: vec![("Request".into(), request_id.to_string())], lines: ids }],
        action: None,
    }
}

fn data_request(record: &OrderRecord, vendor_orders: &[VendorOrder], request_id: &str) -> Message {
    let order = &record.order;
    let mut sections = Vec::new();
    if let Some(redaction) = record.redaction.as_ref().and_then(|r| r.done_at) {
        sections.push(Section {
            links: Vec::new(),
            title: "Personal data".into(),
            rows: vec![("Redacted".into(), when(redaction))],
            lines: vec!["Nothing personal is held of this order any more.".into()],
        });
    } else {
        let rows = vec![
            ("Name".to_string(), order.customer_name.clone()),
            ("Email".into(), order.customer_email.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "none".into())),
        ];
        sections.push(Section { links: Vec::new(), title: "Customer".into(), rows, lines: vec![] });
        if let Some(address) = &order.shipping_address {
            sections.push(Section { links: Vec::new(), title: "Shipping address".into(), rows: vec![], lines: address.lines() });
        }
        for (n, former) in record.former_addresses.iter().enumerate() {
            sections.push(Section { links: Vec::new(), title: format!("Former shipping address {}", n + 1), rows: vec![], lines: former.lines() });
        }
    }
    let lines = paid_lines(order);
    sections.push(Section { links: Vec::new(), title: "Items".into(), rows: vec![("Total".into(), order.total.to_string())], lines });
    let handed = vendor_orders
        .iter()
        .map(|vo| {
            format!("{}: {}{}", vo.vendor_id, vo.state.as_str(), vo.tracking.as_ref().map(|t| format!(", {} {}", t.carrier, t.number)).unwrap_or_default())
        })
        .collect();
    sections.push(Section { links: Vec::new(), title: "Vendors it was handed to (they hold the shipping address too)".into(), rows: vec![], lines: handed });
    Message {
        subject: format!("Data request {request_id}: what dropflow holds of order {}", order.order_number),
        heading: format!("Customer data request {request_id}, order {}", order.order_number),
        intro: vec![
            format!(
                "The storefront ({} {}) asked, on the customer's behalf, what is held about them. This is everything dropflow holds of order {} ({}).",
                order.source, order.shop, order.order_number, order.order_id
            ),
            "Send it to the customer through the storefront within the legal deadline (30 days under GDPR).".into(),
        ],
        sections,
        action: None,
    }
}

/// The mail of one parcel (`tracking_number`, from the event): its tracking and the
/// lines in it.
fn shipped(vo: &VendorOrder, tracking_number: Option<&str>) -> Message {
    let shipment = tracking_number.and_then(|n| vo.shipments.iter().find(|s| s.tracking.number == n));
    let tracking = shipment.map(|s| &s.tracking).or(vo.tracking.as_ref());
    let (rows, action) = match tracking {
        Some(t) => (
            vec![("Carrier".to_string(), t.carrier.to_string()), ("Tracking number".into(), t.number.clone())],
            t.link().map(|url| Action { label: "Track your parcel".into(), url }),
        ),
        None => (vec![], None),
    };
    let items = vo
        .lines
        .iter()
        .filter(|r| shipment.is_none_or(|s| s.line_ids.contains(&r.line.line_id)))
        .map(|r| format!("{} x {}", r.line.quantity, r.line.title))
        .collect();
    let parcels = vo.shipments.len();
    Message {
        subject: if parcels > 1 { format!("Order {}: a parcel has shipped", vo.order_number) } else { format!("Order {} has shipped", vo.order_number) },
        heading: format!("Good news, {}: your order {} is on its way", vo.customer_name, vo.order_number),
        intro: vec!["Your parcel has left the warehouse. Tracking can take a day to show the first scan.".into()],
        sections: vec![
            Section { links: Vec::new(), title: "Tracking".into(), rows, lines: vec![] },
            Section { links: Vec::new(), title: "In this parcel".into(), rows: vec![], lines: items },
        ],
        action,
    }
}

fn delivered(vo: &VendorOrder) -> Message {
    Message {
        subject: format!("Order {} was delivered", vo.order_number),
        heading: format!("Your order {} was delivered", vo.order_number),
        intro: vec!["We hope you enjoy it. If anything is wrong with it, reply to this email.".into()],
        sections: vec![Section {
            links: Vec::new(),
            title: "Delivered".into(),
            rows: vec![],
            lines: vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect(),
        }],
        action: None,
    }
}

/// The customer's side of a vendor's cancellation: in the store's words (the vendor's
/// reason is for the operator), what cannot be sent, and that the store will refund.
fn cancelled_for_customer(vo: &VendorOrder, store_name: &str) -> Message {
    Message {
        subject: format!("Part of your order {} cannot be sent", vo.order_number),
        heading: format!("We are sorry, {}", vo.customer_name),
        intro: vec![
            format!("Some items of your order {} are no longer available from our supplier, so we cannot send them.", vo.order_number),
            format!(
                "You will not be charged for them: {store_name} will refund them and email you when it is done. Anything else in your order is on its way as planned."
            ),
        ],
        sections: vec![Section {
            links: Vec::new(),
            title: "Items we cannot send".into(),
            rows: vec![],
            lines: vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect(),
        }],
        action: None,
    }
}

fn vendor_cancelled(vo: &VendorOrder) -> Message {
    Message {
        subject: format!("Vendor {} cancelled its part of order {}", vo.vendor_id, vo.order_number),
        heading: format!("Order {}: vendor {} cancelled", vo.order_number, vo.vendor_id),
        intro: vec![
            format!("Reason: {}", vo.cancel_reason.clone().unwrap_or_default()),
            "The customer has been told, kindly and without the vendor's reason, that these items cannot be sent and that the store will be in touch about the refund. Refund or re-source them.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "Lines".into(), rows: vec![], lines: vo.lines.iter().map(|r| format!("{} x {} ({})", r.line.quantity, r.line.title, r.line.paid)).collect() }],
        action: None,
    }
}
