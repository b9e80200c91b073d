//! The notifier: turns each event into the emails it calls for and sends each one once
//! per (event, recipient): claim the sent marker with a lease, send, mark it sent. A
//! failed send gives the claim back; a crash between claim and mark leaves a lease that
//! ends, after which a redelivery sends it, so no mail is lost. The one duplicate left
//! is a crash after the provider accepted and before the mark (SES has no idempotency
//! key).

use super::{App, ServiceError};
use crate::domain::events::{self as payload, Envelope, EventType};
use crate::domain::progress::Progress;
use crate::domain::vendor_order::VendorOrder;
use crate::mail::{Action, Message, Page, Recipient, Section, dashboard_url};
use crate::messages::*;
use crate::ports::Sender;
use crate::store::{Claim, OrderRecord};

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
    let composed = match event.event_type {
        EventType::MailResent => resent(app, event).await?,
        _ => compose(app, event).await?,
    };
    for (recipient, message) in composed {
        let to = recipient.address().to_string();
        let message = for_recipient(message, &recipient, &app.config, event.order_id.as_ref());
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
                mail.reply_to = matches!(recipient, Recipient::Customer(_)).then(|| app.config.support_email.to_string());
                app.mailer.send(&from, &mail).await.map_err(ServiceError::Mail)
            }
            Err(e) => Err(ServiceError::Template(e)),
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
    if matches!(event.event_type, EventType::Shipped | EventType::TrackingCorrected) {
        register_parcel(app, event).await?;
    }
    match busy {
        // Another delivery is sending one of these mails right now (or died doing so):
        // try again once its lease has ended.
        Some(until) => Err(ServiceError::Busy { reason: format!("a mail of event {} is claimed until {until}", event.event_id), until: Some(until) }),
        None => Ok(sent),
    }
}

/// The mail a `mail_resent` sends: its event's, composed anew, to its one recipient.
async fn resent(app: &App, event: &Envelope) -> Result<Vec<(Recipient, Message)>, ServiceError> {
    let resent: payload::MailResent = payload_of(event)?;
    let composed = compose(app, &resent.event).await?;
    Ok(composed.into_iter().filter(|(recipient, _)| recipient.address().eq_ignore_ascii_case(&resent.to)).collect())
}

/// A shipped parcel registered with the carrier feed (AfterShip pushes only what it was
/// told of), once: the registration is claimed and marked like a mail to the feed.
async fn register_parcel(app: &App, event: &Envelope) -> Result<(), ServiceError> {
    let Some(feed) = &app.tracking_feed else { return Ok(()) };
    let vo = vendor_order(app, event).await?;
    let parcel: payload::ParcelShipped = payload_of(event)?;
    let Some(tracking) = vo.shipments.iter().map(|s| &s.tracking).find(|t| t.number == parcel.tracking_number).or(vo.tracking.as_ref()) else { return Ok(()) };
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
            tracing::warn!(parcel = %tracking.number, %error, "the carrier feed did not take a registration; retried");
            Err(ServiceError::Feed(error))
        }
    }
}

/// The payload of `event` as its type carries it; one that does not read is the
/// event's fault, not the moment's: no retry mends it.
fn payload_of<P: serde::de::DeserializeOwned>(event: &Envelope) -> Result<P, ServiceError> {
    event.payload_as().map_err(|e| unreadable(event, e))
}

fn unreadable(event: &Envelope, error: serde_json::Error) -> ServiceError {
    ServiceError::Unprocessable(format!("event {}: its payload does not read: {error}", event.event_id))
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

/// Where every item of the order stands now, across its vendor orders: what the
/// customer's mail says of the whole order.
async fn progress(app: &App, record: &OrderRecord) -> Result<Progress, ServiceError> {
    let vendor_orders = app.tables.vendor_orders_of(&record.order.order_id).await?;
    let unroutable: Vec<&str> = record.unroutable.iter().map(|u| u.line_id.as_str()).collect();
    Ok(Progress::of(&record.order, &vendor_orders, &unroutable, &record.not_sent()))
}

/// `message` as it goes to `recipient`: a vendor's mail without an action of its own
/// gets the link to its dashboard page, a customer's the link to the order's status
/// page, when the public base (and for the customer a status-link key) is known.
fn for_recipient(mut message: Message, recipient: &Recipient, config: &crate::config::Config, order_id: Option<&crate::domain::ids::OrderId>) -> Message {
    if let (Recipient::Customer(_), Some(url)) = (recipient, order_id.and_then(|id| super::status::status_url(config, id))) {
        let link = Action { label: "Track your order".into(), url };
        // A mail with its own action (a parcel's carrier link) names the order's page
        // in a section of its own.
        match &message.action {
            None => message.action = Some(link),
            Some(_) => message.sections.push(Section { title: "Your order".into(), links: vec![link], ..Section::default() }),
        }
    }
    if let (Recipient::Vendor(_, page), Some(base), None) = (recipient, &config.public_base_url, &message.action) {
        let label = match page {
            Page::Order(_) => "Open the order in your dashboard",
            Page::Money => "Open your balance in your dashboard",
            Page::Scorecard => "Open your scorecard in your dashboard",
        };
        message.action = Some(Action { label: label.into(), url: dashboard_url(base, page) });
    }
    message
}

/// The customer's copy of `message`, when the order has an address.
fn to_customer(record: &OrderRecord, message: Message) -> Vec<(Recipient, Message)> {
    record.order.customer_email.iter().map(|to| (Recipient::Customer(to.to_string()), message.clone())).collect()
}

/// The emails an event calls for: (recipient, message). Every event type is named:
/// a new one does not compile until someone decides whose mail it is.
async fn compose(app: &App, event: &Envelope) -> Result<Vec<(Recipient, Message)>, ServiceError> {
    let operator = Recipient::Operator(app.config.operator_email.to_string());
    Ok(match event.event_type {
        EventType::OrderAccepted => {
            let record = order(app, event).await?;
            to_customer(&record, order_confirmed(&record))
        }
        EventType::VendorOrderCreated => {
            let vo = vendor_order(app, event).await?;
            let briefed: payload::Briefed = payload_of(event)?;
            vec![(vendor_inbox(app, &vo, event).await?, supplier_brief(&vo, &briefed.added))]
        }
        EventType::OrderUnroutable => vec![(operator, unroutable(&order(app, event).await?))],
        EventType::LinesVoided => {
            let record = order(app, event).await?;
            let progress = progress(app, &record).await?;
            let voided: payload::LinesVoided = payload_of(event)?;
            let mut mail = vec![(operator, voided_for_operator(&record, &voided))];
            mail.extend(to_customer(&record, voided_for_customer(&record, &voided.lines, &progress, &app.config.store_name)));
            mail
        }
        EventType::OrderParked => vec![(operator, parked(&order(app, event).await?, &payload_of(event)?))],
        EventType::Shipped | EventType::TrackingCorrected | EventType::Delivered => parcel_mail(app, event).await?,
        EventType::Cancelled => cancelled(app, event, operator).await?,
        EventType::AddressChanged => {
            let vo = vendor_order(app, event).await?;
            vec![(vendor_inbox(app, &vo, event).await?, address_changed(&vo))]
        }
        EventType::ClockExtended => {
            let vo = vendor_order(app, event).await?;
            vec![(vendor_inbox(app, &vo, event).await?, clock_extended(&vo, &payload_of(event)?))]
        }
        EventType::LinesChanged => {
            let vo = vendor_order(app, event).await?;
            vec![(vendor_inbox(app, &vo, event).await?, lines_changed(&vo, &payload_of(event)?))]
        }
        EventType::Refunded => {
            let vo = vendor_order(app, event).await?;
            vec![(vendor_inbox(app, &vo, event).await?, refunded_for_vendor(&vo, &payload_of(event)?))]
        }
        EventType::OrderNeedsAttention => vec![(operator, needs_attention(&order(app, event).await?, &payload_of(event)?))],
        EventType::TrackingUpdated if !carrier_news_for_anyone(event)? => Vec::new(),
        EventType::SlaReminder
        | EventType::SlaBreached
        | EventType::DeliveryDelayed
        | EventType::RefundWindowClosing
        | EventType::DisputeWindowOpen
        | EventType::TrackingException
        | EventType::TrackingUpdated => clock_mail(app, event).await?,
        EventType::SlaDigest => vec![(operator, super::clock_mail::digest(event).map_err(|e| unreadable(event, e))?)],
        EventType::EarningsReleased | EventType::PayoutCreated | EventType::PayoutPaid => vec![money_mail(app, event).await?],
        EventType::SkuClaimed => {
            let vendor_id = event.vendor_id.as_ref().ok_or_else(|| missing("vendor", event))?;
            vec![(operator, sku_claimed(vendor_id, &payload_of::<payload::SkuClaimed>(event)?.sku))]
        }
        EventType::SupplierNeedsVendor => {
            let vo = vendor_order(app, event).await?;
            let needs: payload::SupplierNeedsVendor = payload_of(event)?;
            let mut mail = vec![(vendor_inbox(app, &vo, event).await?, supplier_needs_vendor(&vo, &needs, false))];
            if needs.tell_operator {
                mail.push((operator, supplier_needs_vendor(&vo, &needs, true)));
            }
            mail
        }
        EventType::SupplierAccountExpiring | EventType::ScorecardChanged => vendor_mail(app, event, operator).await?,
        EventType::DataRequest if event.order_id.is_none() => vec![(operator, data_not_held(&payload_of(event)?))],
        EventType::DataRequest => {
            let record = order(app, event).await?;
            let vendor_orders = app.tables.vendor_orders_of(&record.order.order_id).await?;
            vec![(operator, data_request(&record, &vendor_orders, &payload_of::<payload::DataRequested>(event)?.request_id))]
        }
        // No one's mail: the supplier order is the vendor's own news; a redaction due is
        // carried out in `handle`, before any mail; a resend is composed there too
        // (`resent`), as its event's.
        EventType::SupplierOrderPlaced | EventType::RedactionDue | EventType::MailResent => Vec::new(),
    })
}

/// The mail of an event about a vendor alone: its supplier account running out (to the
/// vendor), a scorecard measure that turned (at risk: the vendor; failing: the operator).
async fn vendor_mail(app: &App, event: &Envelope, operator: Recipient) -> Result<Vec<(Recipient, Message)>, ServiceError> {
    let vendor_id = event.vendor_id.as_ref().ok_or_else(|| missing("vendor", event))?;
    let vendor = app.tables.vendor(vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
    if event.event_type == EventType::SupplierAccountExpiring {
        return Ok(vec![(Recipient::Vendor(vendor.email.to_string(), Page::Money), supplier_account_expiring(&payload_of(event)?))]);
    }
    let changed: payload::ScorecardChanged = payload_of(event)?;
    Ok(if changed.state == "failing" {
        vec![(operator, scorecard_changed(&vendor, &changed, true))]
    } else {
        vec![(Recipient::Vendor(vendor.email.to_string(), Page::Scorecard), scorecard_changed(&vendor, &changed, false))]
    })
}

/// The customer's mail of a parcel shipped, corrected or delivered; none of one
/// shipped or corrected when the storefront mails the customer of its shipments.
async fn parcel_mail(app: &App, event: &Envelope) -> Result<Vec<(Recipient, Message)>, ServiceError> {
    let vo = vendor_order(app, event).await?;
    let record = order(app, event).await?;
    if event.event_type != EventType::Delivered && super::storefront_sync::storefront_mails_shipments(app, &record) {
        // The shop mails the customer of each fulfillment written back to it.
        return Ok(Vec::new());
    }
    let progress = progress(app, &record).await?;
    let message = match event.event_type {
        EventType::Shipped => shipped(&vo, &payload_of::<payload::ParcelShipped>(event)?.tracking_number, &progress),
        EventType::TrackingCorrected => {
            let corrected: payload::TrackingCorrected = payload_of(event)?;
            tracking_corrected(&vo, &corrected.from, &corrected.tracking_number, &progress)
        }
        _ => delivered(&record, &progress),
    };
    Ok(to_customer(&record, message))
}

/// Whether a `tracking_updated` is anyone's mail. Of a carrier's news only a parcel's
/// arrival at a pickup point is (problems are `tracking_exception`s), and the same news
/// again is nobody's. One parcel of several marked delivered by the vendor carries no
/// carrier news (no payload): nobody's mail either, as the order's delivered mail comes
/// when the last parcel arrives. A payload that is there and does not read is an error
/// (parked), never silently nobody's mail.
fn carrier_news_for_anyone(event: &Envelope) -> Result<bool, ServiceError> {
    if event.payload.is_null() {
        return Ok(false);
    }
    let news: payload::CarrierNews = payload_of(event)?;
    Ok(news.checkpoint.tag == "AvailableForPickup" && !news.again)
}

/// Where a vendor order's vendor reads its mail, with the link to the order's page.
async fn vendor_inbox(app: &App, vo: &VendorOrder, event: &Envelope) -> Result<Recipient, ServiceError> {
    let vendor = app.tables.vendor(&vo.vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
    Ok(Recipient::Vendor(vendor.email.to_string(), Page::Order(vo.id())))
}

/// The mail of a cancelled vendor order, by who cancelled it.
async fn cancelled(app: &App, event: &Envelope, operator: Recipient) -> Result<Vec<(Recipient, Message)>, ServiceError> {
    let vo = vendor_order(app, event).await?;
    let by = payload_of::<payload::Cancelled>(event)?.by;
    // By the storefront: the vendor cancels the supplier order (the store tells its
    // customer).
    // Handed over by the operator: the vendor is told not to buy it; the customer's
    // items go on with another vendor.
    if matches!(by, Some(payload::CancelledBy::Storefront | payload::CancelledBy::HandedOver)) {
        let handed_over = by == Some(payload::CancelledBy::HandedOver);
        return Ok(vec![(vendor_inbox(app, &vo, event).await?, storefront_cancelled(&vo, handed_over))]);
    }
    let record = order(app, event).await?;
    let progress = progress(app, &record).await?;
    let store = &app.config.store_name;
    let mail = match by {
        // By the clock (`SLA_AUTO_CANCEL_HOURS`): the vendor is told not to order it
        // now, the operator to refund the customer, the customer why.
        Some(payload::CancelledBy::Sla) => {
            let mut mail = vec![(vendor_inbox(app, &vo, event).await?, auto_cancelled(&vo, false)), (operator, auto_cancelled(&vo, true))];
            mail.extend(to_customer(&record, cancelled_for_customer(&vo, &progress, Unsent::NotInTime, store)));
            mail
        }
        // By its vendor: the operator hears why, the customer kindly.
        Some(payload::CancelledBy::Storefront | payload::CancelledBy::HandedOver) | None => {
            let mut mail = vec![(operator, vendor_cancelled(&vo))];
            mail.extend(to_customer(&record, cancelled_for_customer(&vo, &progress, Unsent::Unavailable, store)));
            mail
        }
    };
    Ok(mail)
}

/// The mail of a clock that fired (or of a parcel's news): the vendor's, and the
/// customer's where the customer is told (a breach, a delay, a parcel's problem or its
/// arrival at a pickup point).
async fn clock_mail(app: &App, event: &Envelope) -> Result<Vec<(Recipient, Message)>, ServiceError> {
    let vo = vendor_order(app, event).await?;
    let vendor = vendor_inbox(app, &vo, event).await?;
    let customer = match event.event_type {
        EventType::SlaBreached | EventType::DeliveryDelayed | EventType::TrackingException | EventType::TrackingUpdated => {
            order(app, event).await?.order.customer_email.map(|e| Recipient::Customer(e.to_string()))
        }
        _ => None,
    };
    super::clock_mail::compose(event, &vo, vendor, customer, &app.config).map_err(|e| unreadable(event, e))
}

/// A vendor's money mail: earnings released, a payout created or paid.
async fn money_mail(app: &App, event: &Envelope) -> Result<(Recipient, Message), ServiceError> {
    let vendor_id = event.vendor_id.as_ref().ok_or_else(|| missing("vendor", event))?;
    let vendor = app.tables.vendor(vendor_id).await?.ok_or_else(|| missing("vendor", event))?;
    let message = if event.event_type == EventType::EarningsReleased {
        earnings_released(&payload_of(event)?)
    } else {
        let named: payload::PayoutNamed = payload_of(event)?;
        let payout = app.tables.payout(&named.payout_id).await?.ok_or_else(|| missing("payout", event))?;
        payout_mail(&payout, event.event_type == EventType::PayoutPaid)
    };
    Ok((Recipient::Vendor(vendor.email.to_string(), Page::Money), message))
}
