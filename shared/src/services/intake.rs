//! Order intake: a verified storefront payload becomes a stored order; once paid, its
//! lines are routed to their vendors and the order, the vendor orders, their clocks and
//! history are written in one transaction with the events they cause. Idempotent: the
//! order id is derived from the storefront's, an older `updated_at` changes nothing, and
//! a routed order is never routed again.

use super::routing::{Working, hand_out, no_address, route_lines, waiting_skus};
use super::{App, ServiceError, retry_on_conflict};
use crate::domain::events::{Attention, Cancelled, CancelledBy, Envelope, EventType, Parked, Untouched};
use crate::domain::ids::OrderId;
use crate::domain::money::Money;
use crate::domain::order::{CanonicalOrder, Decision, LineChange, OperatorAction, OrderLine, Payment, Routing, UnroutableLine, edited_lines, line_changes};
use crate::domain::sla::SlaPolicy;
use crate::domain::vendor_order::{Actor, Command, LineRefund, Recipient, TransitionError, VendorOrder, VoState};
use crate::ports::{StoreError, Write};
use crate::sources::{self, IntakeMessage, Parsed, RefundNotice, RefundedLine};
use crate::store::{OrderMark, OrderRecord, OrderStatus, Tables, UnassignedRefund};
use chrono::{DateTime, Utc};

pub use super::Outcome;

/// How far past now a storefront's `updated_at` may be before it is not trusted.
const MAX_FUTURE_STAMP_HOURS: i64 = 1;

/// Handles one intake message. Two deliveries of one order racing (the same SQS batch,
/// a storefront retry) resolve here: the loser re-reads what won and finds nothing left
/// to do, or applies its newer payload on top.
pub async fn handle(app: &App, message: &IntakeMessage) -> Result<Outcome, ServiceError> {
    // A supplier's push (verified by the webhook): the purchase it names is read back.
    if let Some(api) = message.source.strip_prefix("supplier:") {
        let api = crate::domain::supplier::SupplierApi::parse(api).map_err(|e| ServiceError::BadRequest(e.reason))?;
        return super::supplier::on_push(app, api, &message.body).await;
    }
    let (order, refunds) = match sources::parse(message).map_err(|e| ServiceError::BadRequest(e.0))? {
        Parsed::Order(order, refunds) => (*order, refunds),
        Parsed::Refund(notice) => return record_refund_racing(app, &notice).await,
        Parsed::Privacy(request) => return super::privacy::handle(app, &request).await,
        Parsed::Tracking(update) => return super::tracking::apply(app, &update).await,
        Parsed::Deleted { source, shop, external_id } => return delete(app, &source, shop.or_else(|| message.claimed_shop.clone()), &external_id).await,
        Parsed::Ignored(reason) => return Ok(Outcome::Ignored(reason)),
    };
    let mut outcome = store_order(app, &order).await?;
    // The refunds the order lists are facts whatever its version: each is recorded once.
    for notice in &refunds {
        if let Outcome::Updated(recorded) = record_refund_racing(app, notice).await? {
            outcome = match outcome {
                Outcome::Updated(followed) => Outcome::Updated(followed + recorded),
                Outcome::AlreadyRouted | Outcome::Ignored(_) => Outcome::Updated(recorded),
                other => other,
            };
        }
    }
    Ok(outcome)
}

/// A storefront deleted an order and said only its id: the order of that id already
/// filed under `shop` is cancelled as a storefront cancel is (its vendors told, what
/// shipped left to the operator). An id dropflow does not hold files no order, but is
/// remembered: the order, should its own delivery come after the delete, is filed as
/// cancelled (the order of arrival never decides whether it ships).
async fn delete(app: &App, source: &str, shop: Option<String>, external_id: &str) -> Result<Outcome, ServiceError> {
    let shop = shop.unwrap_or_default();
    let order_id = OrderId::derive(source, &shop, external_id);
    let record = match app.tables.order(&order_id).await? {
        Some(record) => record,
        None => {
            app.commit(vec![Tables::put_order_mark(&order_id, OrderMark::Deleted, app.clock.now())?], &[]).await?;
            // The order may have been filed meanwhile (intake read no mark before this
            // write): read again, and cancel it if so.
            match app.tables.order(&order_id).await? {
                Some(record) => record,
                None => {
                    return Ok(Outcome::Ignored(format!(
                        "deleted {source} order {external_id} of {shop:?} is not held here: it is filed cancelled if it comes"
                    )));
                }
            }
        }
    };
    if record.order.payment == Payment::Void {
        return Ok(Outcome::Ignored(format!("deleted {source} order {external_id} was cancelled already")));
    }
    // The delete says no time: it is news from now, and never older than what is held.
    let cancelled = CanonicalOrder { payment: Payment::Void, updated_at: record.order.updated_at.max(app.clock.now()), ..record.order.clone() };
    store_order(app, &cancelled).await
}

/// Decides on one delivery of an order, re-reading after a racing delivery committed.
async fn store_order(app: &App, order: &CanonicalOrder) -> Result<Outcome, ServiceError> {
    match retry_on_conflict("an order", || take(app, order)).await {
        Err(ServiceError::Store(StoreError::TooLarge(reason))) => {
            tell_operator_it_is_too_large(app, order, &reason).await?;
            Err(ServiceError::TooLarge(format!("order {} is too large to store ({reason}); kept in the intake dead letters", order.order_number)))
        }
        outcome => outcome,
    }
}

/// A verified order whose items cannot fit in the table is never dropped: its message
/// goes whole to the intake dead letters (the caller's error says why), and the operator
/// is told, by an event committed with a small record of the order (its lines left out)
/// so that a redelivery tells nobody twice.
async fn tell_operator_it_is_too_large(app: &App, order: &CanonicalOrder, reason: &str) -> Result<(), ServiceError> {
    let now = app.clock.now();
    let event =
        Envelope::new(EventType::OrderParked, &order.order_id, None, "parked", now).with(&Parked { reason: reason.to_string(), lines: order.lines.len() });
    let writes = match app.tables.order(&order.order_id).await? {
        // Known already (held, or parked before): the event alone, once.
        Some(_) => Vec::new(),
        None => {
            let record = OrderRecord::new(parked_summary(order), OrderStatus::Parked, 1);
            let mut writes = vec![Tables::put_order(&record, None)?, Tables::put_order_number(order)?];
            writes.extend(super::console::email_filing(app, &record.order)?);
            writes
        }
    };
    match app.commit(writes, &[event]).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// What is kept of an order too large to store: enough for the operator's mail (its
/// number, storefront, customer and total), with no lines, no address and every text cut
/// short, so that it fits whatever made the order too large (its lines, or an address
/// or name of hundreds of kilobytes).
fn parked_summary(order: &CanonicalOrder) -> CanonicalOrder {
    let short = |text: &str| -> String { text.chars().take(PARKED_TEXT_CHARS).collect() };
    CanonicalOrder {
        order_number: short(&order.order_number),
        shop: short(&order.shop),
        external_id: short(&order.external_id),
        customer_name: short(&order.customer_name),
        shipping_address: None,
        address_problem: None,
        lines: Vec::new(),
        ..order.clone()
    }
}

/// The longest text a parked order's summary keeps of any field.
const PARKED_TEXT_CHARS: usize = 200;

/// An order whose customer's data the storefront asked to erase before the order
/// arrived: kept without its personal data, handed to no vendor (there is no address to
/// ship to), and the operator told once to settle it with the customer at the store.
async fn keep_erased(app: &App, order: &CanonicalOrder, requested_at: DateTime<Utc>) -> Result<Outcome, ServiceError> {
    let now = app.clock.now();
    let status = if order.payment == Payment::Void { OrderStatus::Void } else { OrderStatus::Held };
    let mut record = OrderRecord::new(crate::domain::privacy::redacted_order(order), status, 1);
    record.redaction = Some(crate::store::Redaction { requested_at, done_at: Some(now) });
    let event = Envelope::new(EventType::OrderNeedsAttention, &order.order_id, None, "erased-before-arrival", now).with(&Attention::ErasedBeforeArrival);
    match app.commit(vec![Tables::put_order(&record, None)?, Tables::put_order_number(order)?], &[event]).await {
        // Another delivery of the order kept it first.
        Ok(()) | Err(StoreError::ConditionFailed) => {
            Ok(Outcome::Ignored("its customer's data was erased at the storefront's request before it arrived: kept without it, not routed".into()))
        }
        Err(error) => Err(error.into()),
    }
}

/// Reads what is stored of `order`, decides (`domain::order::decide`), and commits the
/// decision with its events.
async fn take(app: &App, delivered: &CanonicalOrder) -> Result<Outcome, ServiceError> {
    let existing = app.tables.order(&delivered.order_id).await?;
    // An order stays filed under the shop it was first filed under, whatever a later
    // delivery's unsigned header says.
    let mut order = match &existing {
        // A line the storefront stopped listing was removed: it is kept, with no units.
        // And an address the operator fixed stands while the storefront sends the one it
        // replaced.
        Some(record) => record.keeping_fix(CanonicalOrder {
            shop: record.order.shop.clone(),
            lines: edited_lines(&record.order.lines, &delivered.lines),
            ..delivered.clone()
        }),
        None => delivered.clone(),
    };
    let mut notes = Vec::new();
    let now = app.clock.now();
    if let Some(ignored) = distrust_future_stamp(app, existing.as_ref(), &mut order, now, &mut notes).await? {
        return Ok(ignored);
    }
    let order = &order;
    // A WooCommerce order that names no site (no `_links`) under a secret several sites
    // share is filed under no site: kept, and the operator told once, since the same
    // order with its links would be filed apart.
    if existing.is_none() && order.source == "woocommerce" && order.shop.is_empty() {
        notes.push(Envelope::new(EventType::OrderNeedsAttention, &order.order_id, None, "unlinked-site", now).with(&Attention::UnlinkedSite));
    }
    if existing.is_none()
        && let Some(requested_at) = app.tables.order_mark(&order.order_id, OrderMark::Erased).await?
    {
        return keep_erased(app, order, requested_at).await;
    }
    // Deleted at the storefront before it came: filed, as cancelled. Only WooCommerce
    // sends a delete that names just an id, so only its new orders read for the mark.
    if existing.is_none()
        && order.source == "woocommerce"
        && order.payment != Payment::Void
        && app.tables.order_mark(&order.order_id, OrderMark::Deleted).await?.is_some()
    {
        return file(app, None, &CanonicalOrder { payment: Payment::Void, ..order.clone() }, notes).await;
    }
    file(app, existing, order, notes).await
}

/// A stamp in the future (a storefront's broken clock, the year 2999) is kept but not
/// trusted: it is taken as the stored version's (a tie, told apart by content, a
/// payment only moving forward), or for a new order as its creation (not now: the
/// storefront's own versions stamped before a late delivery of it are still newer),
/// so that it cannot freeze the order against every later version. The operator is
/// told, once. Of an order already held, such a version cannot be placed among the
/// storefront's others: it counts only for moving the payment on (a payment, a
/// cancel), and is otherwise ignored (its content may be older than what is held).
async fn distrust_future_stamp(
    app: &App,
    existing: Option<&OrderRecord>,
    order: &mut CanonicalOrder,
    now: DateTime<Utc>,
    notes: &mut Vec<Envelope>,
) -> Result<Option<Outcome>, ServiceError> {
    if order.updated_at <= now + chrono::Duration::hours(MAX_FUTURE_STAMP_HOURS) {
        return Ok(None);
    }
    let taken_as = existing.map_or(order.created_at.min(now), |r| r.order.updated_at);
    // One note per stamp and payment: a later future-stamped cancel is news again.
    let discriminator = format!("future-stamp@{}:{:?}", order.updated_at.timestamp(), order.payment);
    let note = Attention::FutureStamp { stamped: order.updated_at, taken_as };
    notes.push(Envelope::new(EventType::OrderNeedsAttention, &order.order_id, None, &discriminator, now).with(&note));
    if let Some(record) = existing.filter(|r| order.payment.rank() <= r.order.payment.rank()) {
        tell(app, notes).await?;
        let why = format!("stamped {} (in the future), and its payment {:?} is not newer than the held one", order.updated_at, record.order.payment);
        return Ok(Some(Outcome::Ignored(why)));
    }
    order.updated_at = taken_as;
    Ok(None)
}

/// Files `order` against what is held of it (`existing`): ignored when it is not the
/// newer version, followed when the order was routed, else held or routed now.
async fn file(app: &App, existing: Option<OrderRecord>, order: &CanonicalOrder, notes: Vec<Envelope>) -> Result<Outcome, ServiceError> {
    match (crate::domain::order::decide(existing.as_ref(), order), &existing) {
        (Decision::Ignore(why), _) => Ok(Outcome::Ignored(why)),
        (Decision::AlreadyRouted, _) => {
            tell(app, &notes).await?;
            Ok(Outcome::AlreadyRouted)
        }
        (Decision::Follow, Some(record)) => follow_storefront(app, record, order, notes, None).await,
        // `decide` follows only an order it was given; with none held, routing is what a
        // new paid order gets.
        (Decision::Route | Decision::Follow, _) => route_and_store(app, order.clone(), existing.as_ref(), notes).await,
        (Decision::HeldAlready, _) => {
            tell(app, &notes).await?;
            Ok(Outcome::Held)
        }
        (Decision::Hold(status), _) => {
            let record = match &existing {
                Some(known) => OrderRecord { order: order.clone(), status, version: known.version + 1, ..known.clone() },
                None => OrderRecord::new(order.clone(), status, 1),
            };
            let mut writes = vec![Tables::put_order(&record, existing.as_ref().map(|r| r.version))?];
            if existing.is_none() {
                writes.extend(first_filing(order)?);
                writes.extend(super::console::email_filing(app, order)?);
            }
            app.commit(writes, &notes).await?;
            Ok(Outcome::Held)
        }
    }
}

/// What is written (and checked) when an order is filed for the first time: its number
/// (its customer's email goes with it: `console::email_filing`), and that no redaction (nor, for a WooCommerce order that is not cancelled, no id-only
/// delete) came for it since intake read for one.
fn first_filing(order: &CanonicalOrder) -> Result<Vec<Write>, StoreError> {
    let mut writes = vec![Tables::put_order_number(order)?, Tables::order_mark_absent(&order.order_id, OrderMark::Erased)];
    if order.source == "woocommerce" && order.payment != Payment::Void {
        writes.push(Tables::order_mark_absent(&order.order_id, OrderMark::Deleted));
    }
    Ok(writes)
}

/// Tells the operator `notes` of a delivery that changes nothing else (each once: a
/// note committed before is not written again).
async fn tell(app: &App, notes: &[Envelope]) -> Result<(), ServiceError> {
    for note in notes {
        match app.commit(Vec::new(), std::slice::from_ref(note)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Routes a paid order and commits it with its events and `notes` (what the operator is
/// told of this delivery).
async fn route_and_store(app: &App, order: CanonicalOrder, previous: Option<&OrderRecord>, notes: Vec<Envelope>) -> Result<Outcome, ServiceError> {
    // A line refunded in full before it was routed has nothing left to send.
    let held = previous.map_or(&[][..], |p| &p.refunds[..]);
    // Nor does a line edited away before the order was paid.
    let to_route: Vec<OrderLine> = order.lines.iter().filter(|l| !l.is_removed() && !crate::domain::refund::refunded_in_full(l, held)).cloned().collect();
    let routing = route_lines(app, &CanonicalOrder { lines: to_route, ..order.clone() }).await?;
    let now = app.clock.now();
    let (record, mut writes) = routed(order, routing, now, &app.config.sla, previous)?;
    if previous.is_none() {
        writes.extend(super::console::email_filing(app, &record.order)?);
    }
    // Lines left waiting: their customer is told `UNROUTABLE_NOTICE_HOURS` on, unless the
    // operator routes them first.
    writes.extend(super::unroutable::notice(app, &record, &record.unroutable, now)?);
    // The order's condition makes two deliveries racing here commit once; the loser
    // re-reads in `handle`.
    let mut events = routing_events(&record);
    events.extend(notes);
    app.commit(writes, &events).await?;
    crate::metrics::count(crate::metrics::Metric::OrdersAccepted, 1);
    crate::metrics::count(crate::metrics::Metric::VendorOrdersRouted, record.vendors.len());
    crate::metrics::count(crate::metrics::Metric::UnroutableLines, record.unroutable.len());
    Ok(Outcome::Routed(record.vendors.len()))
}

/// What routing `order` as `routing` at `now` stores, without its events (see
/// `routing_events`): the order record, a vendor order with its first history entry per
/// vendor (carrying the refunds its lines had before they were routed), the order's
/// number, and the lines that wait for a mapping. `previous` is the order as held
/// before (pending until now), whose refunds and notes it keeps. Pure: the part of
/// intake that the hot-path benchmark measures.
pub fn routed(
    order: CanonicalOrder,
    routing: Routing,
    now: DateTime<Utc>,
    sla: &SlaPolicy,
    previous: Option<&OrderRecord>,
) -> Result<(OrderRecord, Vec<Write>), ServiceError> {
    let mut writes = Vec::new();
    let held = previous.map_or(&[][..], |p| &p.refunds[..]);
    for (vendor_id, lines) in &routing.by_vendor {
        let to = Recipient::of(&order).ok_or_else(no_address)?;
        let (mut vendor_order, history) = VendorOrder::create(to, vendor_id.clone(), lines.clone(), now, sla);
        vendor_order.refunds = held.iter().filter(|r| lines.iter().any(|l| l.line.line_id == r.line_id)).cloned().collect();
        writes.push(Tables::put_vendor_order(&vendor_order, None)?);
        writes.push(Tables::put_history(&vendor_order, &history)?);
        writes.extend(super::supplier::purchases_for(&vendor_order, now)?);
    }
    let previous_version = previous.map(|p| p.version);
    let before = match previous {
        Some(p) => OrderRecord { order, status: OrderStatus::Routed, version: p.version + 1, ..p.clone() },
        None => OrderRecord::new(order, OrderStatus::Routed, 1),
    };
    let record = OrderRecord { vendors: routing.by_vendor.keys().cloned().collect(), unroutable: routing.unroutable, routed_at: Some(now), ..before };
    writes.insert(0, Tables::put_order(&record, previous_version)?);
    if previous_version.is_none() {
        writes.extend(first_filing(&record.order)?);
    }
    // Lines that only lack a mapping wait under their SKU, to be routed once it is mapped:
    // one item per (SKU, order), however many lines share the SKU (DynamoDB refuses a
    // transaction that writes one item twice; dropflow-sim seed 7 on moto).
    for sku in waiting_skus(&record) {
        writes.push(Tables::put_waiting(&sku, &record.order.order_id)?);
    }
    Ok((record, writes))
}

/// Records a refund, re-reading after another change of the same order committed
/// first (two refunds of one order in one SQS batch, or a refund racing its order's
/// routing): the loser applies its refund on top of what won, instead of waiting out a
/// retry of its message.
async fn record_refund_racing(app: &App, notice: &RefundNotice) -> Result<Outcome, ServiceError> {
    retry_on_conflict("a refund", || record_refund(app, notice)).await
}

/// A storefront refund: each refunded line's amount is recorded, exactly, on the vendor
/// order that holds the line, with a `refunded` event (what the money side consumes),
/// or kept on the order for a line no vendor order holds yet; a refund is recorded once
/// however often it is delivered. What cannot be applied (an unreadable, negative or
/// too large amount, a line the order does not have) is kept for the operator, who is
/// told once, and never stops the readable lines of the same refund. A refund that
/// arrives before its order waits for it (a retry later). One transaction in all.
async fn record_refund(app: &App, notice: &RefundNotice) -> Result<Outcome, ServiceError> {
    let Some(record) = app.tables.order(&notice.order_id).await? else {
        return Err(ServiceError::Busy { reason: format!("refund {} came before its order {}", notice.refund_id, notice.order_id), until: None });
    };
    let now = app.clock.now();
    let currency = record.order.currency;
    let mut next = record.clone();
    let mut events = Vec::new();
    if let Some(problem) = &notice.problem {
        events.extend(refund_for_the_operator(&mut next, &notice.refund_id, None, problem, now));
        return commit_refund(app, &record, next, Vec::new(), events).await;
    }
    let mut lines = notice.lines.clone();
    if lines.is_empty() {
        let Some(amount) = &notice.unassigned else {
            return Ok(Outcome::Ignored(format!("refund {} names no line and no amount", notice.refund_id)));
        };
        let why = match (record.order.lines.as_slice(), amount.to_money(currency)) {
            // One line: the refund can only be for it (its amount is checked below).
            ([only], Ok(_)) => {
                lines.push(RefundedLine { line_id: only.line_id.clone(), quantity: 0, amount: amount.clone() });
                None
            }
            (_, Ok(money)) if money.minor < 0 => Some((Some(money), format!("its amount {money} is negative"))),
            (_, Ok(money)) => Some((Some(money), "the storefront did not say which lines it was for".to_string())),
            (_, Err(e)) => Some((None, format!("its amount {:?} is not one: {e}", amount.0))),
        };
        if let Some((money, why)) = why {
            events.extend(refund_for_the_operator(&mut next, &notice.refund_id, money, &why, now));
            return commit_refund(app, &record, next, Vec::new(), events).await;
        }
    }
    // A line the held order does not have yet: the storefront's edit that adds it has not
    // come (its webhooks come in any order). The refund waits for it, as one that comes
    // before its order does; applied now it would be lost to the line when it comes.
    if let Some(line) = lines.iter().find(|l| !record.order.lines.iter().any(|o| o.line_id == l.line_id)) {
        return Err(ServiceError::Busy {
            reason: format!("refund {} names line {}, which order {} does not have yet", notice.refund_id, line.line_id, notice.order_id),
            until: None,
        });
    }
    let vendor_orders = app.tables.vendor_orders_of(&notice.order_id).await?;
    let (accepted, refused) = assess_refund(&record, &vendor_orders, &notice.refund_id, &lines);
    if !refused.is_empty() {
        events.extend(refund_for_the_operator(&mut next, &notice.refund_id, None, &format!("not applied: {}", refused.join("; ")), now));
    }
    let mut writes = Vec::new();
    for current in &vendor_orders {
        let own: Vec<LineRefund> = accepted.iter().filter(|r| refund_holder(&vendor_orders, &r.line_id) == Some(current)).cloned().collect();
        if !own.is_empty() {
            refund_vendor_order(app, current, own, &notice.refund_id, now, &mut writes, &mut events).await?;
        }
    }
    // Lines no vendor order holds yet: the refund waits on the order, and a line it
    // refunds in full stops waiting for a vendor.
    for refund in accepted.iter().filter(|r| !vendor_orders.iter().any(|vo| vo.lines.iter().any(|l| l.line.line_id == r.line_id))) {
        next.refunds.push(refund.clone());
    }
    let done: Vec<String> = next.order.lines.iter().filter(|l| crate::domain::refund::refunded_in_full(l, &next.refunds)).map(|l| l.line_id.clone()).collect();
    next.unroutable.retain(|u| !done.contains(&u.line_id));
    for sku in waiting_skus(&record).into_iter().filter(|sku| !waiting_skus(&next).contains(sku)) {
        writes.push(Tables::delete_waiting(&sku, &record.order.order_id));
    }
    commit_refund(app, &record, next, writes, events).await
}

/// The vendor order a refund of `line_id` is recorded on: the one that holds the line
/// and is not cancelled (a line the operator handed over is held by the order it left
/// too), else the newest that held it.
fn refund_holder<'a>(vendor_orders: &'a [VendorOrder], line_id: &str) -> Option<&'a VendorOrder> {
    vendor_orders
        .iter()
        .filter(|vo| vo.lines.iter().any(|l| l.line.line_id == line_id))
        .max_by_key(|vo| (vo.state != VoState::Cancelled, vo.created_at, vo.round))
}

/// Which of a refund's `lines` can be recorded (each once, within what the line was
/// paid) and why the others cannot, against the order as held and its vendor orders.
/// Pure: a line already refunded by an earlier delivery of the same refund is neither.
fn assess_refund(record: &OrderRecord, vendor_orders: &[VendorOrder], refund_id: &str, lines: &[RefundedLine]) -> (Vec<LineRefund>, Vec<String>) {
    let currency = record.order.currency;
    let mut refused = Vec::new();
    let mut accepted: Vec<LineRefund> = Vec::new();
    for line in lines {
        let amount = match line.amount.to_money(currency) {
            Ok(amount) => amount,
            Err(e) => {
                refused.push(format!("line {}: its amount {:?} is not one: {e}", line.line_id, line.amount.0));
                continue;
            }
        };
        if record.order.lines.iter().any(|l| l.line_id == format!("{}#2", line.line_id)) {
            refused.push(format!("line {}: the storefront sent that line id on several lines, so which one is meant cannot be told", line.line_id));
            continue;
        }
        let refund = LineRefund { refund_id: refund_id.to_string(), line_id: line.line_id.clone(), quantity: line.quantity, amount };
        let holder = vendor_orders.iter().find(|vo| vo.lines.iter().any(|l| l.line.line_id == line.line_id));
        let (Some(order_line), earlier) = (
            record.order.lines.iter().find(|l| l.line_id == line.line_id),
            holder.map_or(&record.refunds, |vo| &vo.refunds).iter().chain(&accepted).cloned().collect::<Vec<_>>(),
        ) else {
            refused.push(format!("line {}: the order has no such line", line.line_id));
            continue;
        };
        if earlier.iter().any(|r| r.refund_id == refund.refund_id && r.line_id == refund.line_id) {
            continue; // recorded by an earlier delivery of the same refund
        }
        match crate::domain::refund::problem(order_line, &refund, &earlier) {
            Some(problem) => refused.push(problem),
            None => accepted.push(refund),
        }
    }
    (accepted, refused)
}

/// Records `own` (the refund's lines this vendor order holds) on `current`, and takes
/// back what those lines had earned, in the same transaction; the vendor's mail says
/// how much, and from where. Already recorded (an earlier delivery): nothing.
async fn refund_vendor_order(
    app: &App,
    current: &VendorOrder,
    own: Vec<LineRefund>,
    refund_id: &str,
    now: DateTime<Utc>,
    writes: &mut Vec<Write>,
    events: &mut Vec<Envelope>,
) -> Result<(), ServiceError> {
    match current.apply(Command::RecordRefund { refunds: own }, Actor::Storefront, now, &app.config.sla) {
        Ok(transition) => {
            writes.push(Tables::put_vendor_order(&transition.vendor_order, Some(current.version))?);
            writes.push(Tables::put_history(&transition.vendor_order, &transition.history)?);
            let effects = super::money::effects(app, current, &transition.vendor_order, now).await?;
            writes.extend(effects.writes);
            let mut refunded = transition.events;
            for event in refunded.iter_mut().filter(|e| e.event_type == EventType::Refunded) {
                *event = event.clone().with(&super::money::taken_back(refund_id, &effects.entries));
            }
            events.extend(refunded);
            Ok(())
        }
        // Recorded by an earlier delivery of the same refund.
        Err(TransitionError::Invalid(_)) => Ok(()),
        Err(error) => Err(ServiceError::Conflict(error.to_string())),
    }
}

/// Commits what a refund changed: the order record when it changed, then `writes`,
/// with `events`; nothing at all when nothing changed.
async fn commit_refund(app: &App, record: &OrderRecord, mut next: OrderRecord, mut writes: Vec<Write>, events: Vec<Envelope>) -> Result<Outcome, ServiceError> {
    if next != *record {
        next.version = record.version + 1;
        writes.insert(0, Tables::put_order(&next, Some(record.version))?);
    }
    if writes.is_empty() {
        return Ok(Outcome::Ignored("the refund has nothing left to record".into()));
    }
    let recorded = events.len().max(1);
    app.commit(writes, &events).await?;
    Ok(Outcome::Updated(recorded))
}

/// A refund dropflow cannot apply by itself (no lines named on an order of several,
/// an amount that is unreadable, negative or too large) is kept on the order with the
/// reason, and the operator told, once per refund.
fn refund_for_the_operator(next: &mut OrderRecord, refund_id: &str, amount: Option<Money>, why: &str, now: DateTime<Utc>) -> Option<Envelope> {
    if next.unassigned_refunds.iter().any(|r| r.refund_id == refund_id) {
        return None;
    }
    next.unassigned_refunds.push(UnassignedRefund { refund_id: refund_id.to_string(), amount, reason: why.to_string() });
    let note = Attention::Refund { refund_id: refund_id.to_string(), amount: amount.map(|m| m.to_string()), reason: why.to_string() };
    Some(Envelope::new(EventType::OrderNeedsAttention, &next.order.order_id, None, &format!("refund-{}", next.unassigned_refunds.len()), now).with(&note))
}

/// A routed order changed at the storefront, and every vendor order not yet shipped
/// follows, in one transaction with the newer order (so that an older delivery arriving
/// later changes nothing):
/// - a cancellation cancels it (its vendor is mailed to cancel the supplier order);
/// - a new address reaches it (its vendor is mailed);
/// - edited lines (units removed or added, a line removed) change it, and its vendor is
///   mailed what changed, and to amend the supplier order when one was placed; every
///   line removed cancels it; a new line is routed like any other.
///
/// What had left in a parcel is not changed, and the operator is told. `by` is the
/// operator's act when the change is theirs (a fixed address), else the storefront's.
pub(super) async fn follow_storefront(
    app: &App,
    record: &OrderRecord,
    order: &CanonicalOrder,
    notes: Vec<Envelope>,
    by: Option<&OperatorAction>,
) -> Result<Outcome, ServiceError> {
    let now = app.clock.now();
    let actor = if by.is_some() { Actor::Operator } else { Actor::Storefront };
    let cancelled = order.payment == Payment::Void;
    let new_address = order.shipping_address.as_ref().filter(|a| Some(*a) != record.order.shipping_address.as_ref());
    let changes = if cancelled { Vec::new() } else { line_changes(&record.order.lines, &order.lines) };
    let mut working: Vec<Working> = app.tables.vendor_orders_of(&order.order_id).await?.into_iter().map(Working::read).collect();
    let mut events = Vec::new();
    let mut left_to_operator: Vec<(&str, Untouched)> = Vec::new();
    for current in &mut working {
        // A cancelled vendor order holds nothing: a line it had that comes back is routed anew.
        let held = |change: &&LineChange| current.vo.state != VoState::Cancelled && current.vo.lines.iter().any(|l| l.line.line_id == change.line.line_id);
        let (in_parcels, to_change): (Vec<&LineChange>, Vec<&LineChange>) =
            changes.iter().filter(held).partition(|c| current.vo.shipments.iter().any(|s| s.line_ids.contains(&c.line.line_id)));
        let mut commands = Vec::new();
        if cancelled {
            commands.push(("cancelled", Command::Cancel { reason: "the storefront cancelled the order".into() }));
        }
        // A cancelled order goes nowhere: its new address is not news to anyone.
        if let Some(address) = new_address.filter(|_| !cancelled) {
            commands.push(("address_changed", Command::ChangeAddress { address: address.clone() }));
        }
        if !to_change.is_empty() {
            commands.push(("lines_changed", Command::ChangeLines { lines: to_change.iter().map(|c| c.line.clone()).collect() }));
        }
        if !in_parcels.is_empty() {
            let lines: Vec<String> = in_parcels.iter().map(|c| c.describe()).collect();
            left_to_operator.push(("lines_changed", Untouched { vendor_id: current.vo.vendor_id.clone(), state: current.vo.state.as_str().into(), lines }));
        }
        for (change, command) in commands {
            let state = current.vo.state;
            match current.apply(command, actor.clone(), now, &app.config.sla) {
                // A cancel says it was the storefront's (the vendor cancels the supplier order).
                Ok(followed) => events.extend(followed.into_iter().map(|event| match event.event_type {
                    EventType::Cancelled => event.with(&Cancelled { by: Some(CancelledBy::Storefront), to: None }),
                    _ => event,
                })),
                // Shipped (or a parcel of it has left): the operator decides.
                Err(TransitionError::Illegal { from, .. }) if matches!(from, VoState::Shipped | VoState::Delivered) || !current.vo.shipments.is_empty() => {
                    left_to_operator.push((change, Untouched { vendor_id: current.vo.vendor_id.clone(), state: state.as_str().into(), lines: vec![] }));
                }
                // Cancelled before, or the same address: nothing to follow.
                Err(_) => {}
            }
        }
    }
    events.extend(notes);
    let followed = working.iter().filter(|w| w.changed()).count();
    let mut updated = after_following(record, order, new_address.is_some(), by);
    for change in ["cancelled", "address_changed", "lines_changed"] {
        let vendor_orders: Vec<Untouched> = left_to_operator.iter().filter(|(c, _)| *c == change).map(|(_, v)| v.clone()).collect();
        if !vendor_orders.is_empty() {
            let note = match change {
                "cancelled" => Attention::Cancelled { vendor_orders },
                "lines_changed" => Attention::LinesChanged { vendor_orders },
                _ => Attention::AddressChanged { vendor_orders, address: new_address.map(|a| a.lines()).unwrap_or_default() },
            };
            events.push(Envelope::new(EventType::OrderNeedsAttention, &order.order_id, None, &note_id(change, &updated, by), now).with(&note));
        }
    }
    let mut writes = if cancelled {
        // A cancelled order waits for nothing: its lines stop waiting for a SKU or an
        // address (the operator has nothing left to settle for them).
        updated.unroutable.clear();
        waiting_skus(record).iter().map(|sku| Tables::delete_waiting(sku, &record.order.order_id)).collect()
    } else {
        route_new_lines(app, record, &mut updated, &changes, new_address.is_some(), &mut working, now, &mut events).await?
    };
    writes.splice(0..0, Working::writes(&working)?);
    writes.extend(super::routing::joined_purchases(app, &working, now).await?);
    writes.insert(0, Tables::put_order(&updated, Some(record.version))?);
    app.commit(writes, &events).await?;
    Ok(Outcome::Updated(followed))
}

/// The order record after following `order`: the address it replaced kept for a
/// redaction (it went out in mail and history), the operator's act and fix recorded, a
/// fix dropped when the storefront's own new address replaced it.
fn after_following(record: &OrderRecord, order: &CanonicalOrder, readdressed: bool, by: Option<&OperatorAction>) -> OrderRecord {
    let mut updated = OrderRecord { order: order.clone(), version: record.version + 1, ..record.clone() };
    if let (true, Some(former)) = (readdressed, &record.order.shipping_address) {
        updated.former_addresses.push(former.clone());
    }
    match by {
        Some(act) => {
            updated.actions.push(act.clone());
            updated.address_fix = Some(record.fixed_at(act.at));
        }
        None if readdressed => updated.address_fix = None,
        None => {}
    }
    updated
}

/// The id of a note to the operator about `change`: per storefront version, or per
/// version of the order for the operator's own act.
fn note_id(change: &str, updated: &OrderRecord, by: Option<&OperatorAction>) -> String {
    match by {
        Some(_) => format!("{change}@v{}", updated.version),
        None => format!("{change}@{}", updated.order.updated_at.timestamp()),
    }
}

/// Lines an edit added (or brought back after removing them) are routed like any
/// other (to a vendor, or waiting for their SKU with the operator told), and lines it
/// removed stop waiting. With a new address
/// (`readdressed`) every line that waits is routed again: one that waited for a usable
/// address goes to its vendor, or now waits for its SKU, with its reason said anew. The
/// writes of the waiting items, with `updated` and `working` changed to match.
#[allow(clippy::too_many_arguments)]
async fn route_new_lines(
    app: &App,
    record: &OrderRecord,
    updated: &mut OrderRecord,
    changes: &[LineChange],
    readdressed: bool,
    working: &mut Vec<Working>,
    now: DateTime<Utc>,
    events: &mut Vec<Envelope>,
) -> Result<Vec<Write>, ServiceError> {
    updated.unroutable.retain(|u| updated.order.lines.iter().any(|l| l.line_id == u.line_id && !l.is_removed()));
    let refunded = |line: &OrderLine| crate::domain::refund::refunded_in_full(line, &record.refunds);
    // New lines, and lines that come back (units again on a line an edit had removed)
    // where no open vendor order holds them (all its lines removed, theirs was cancelled).
    let holds = |line: &OrderLine| working.iter().any(|w| w.vo.state != VoState::Cancelled && w.vo.lines.iter().any(|l| l.line.line_id == line.line_id));
    // A line that waits is routed by its mapping (or a new address), a void one never.
    let waits = |line: &OrderLine| record.unroutable.iter().any(|u| u.line_id == line.line_id) || record.void_lines.iter().any(|v| v.line_id == line.line_id);
    let mut lines: Vec<OrderLine> = changes.iter().filter(|c| c.from == 0 && !holds(&c.line) && !waits(&c.line)).map(|c| c.line.clone()).collect();
    if readdressed {
        let waiting: Vec<String> = updated.unroutable.iter().map(|u| u.line_id.clone()).collect();
        lines.extend(updated.order.lines.iter().filter(|l| waiting.contains(&l.line_id)).cloned());
        updated.unroutable.clear();
    }
    lines.retain(|l| !refunded(l));
    if !lines.is_empty() {
        let routing = route_lines(app, &CanonicalOrder { lines, ..updated.order.clone() }).await?;
        let discriminator = format!("edited-v{}", updated.version);
        hand_out(app, working, &routing, &discriminator, now, events, updated)?;
        updated.unroutable.extend(routing.unroutable);
    }
    let mut writes = Vec::new();
    // The operator hears of a line that waits anew, or for another reason; its customer,
    // if it still waits `UNROUTABLE_NOTICE_HOURS` on.
    let anew: Vec<UnroutableLine> = updated.unroutable.iter().filter(|u| !record.unroutable.contains(u)).cloned().collect();
    if !anew.is_empty() {
        events.push(Envelope::new(EventType::OrderUnroutable, &record.order.order_id, None, &format!("edited-v{}", updated.version), now));
        let fresh: Vec<UnroutableLine> = anew.into_iter().filter(|u| !record.unroutable.iter().any(|w| w.line_id == u.line_id)).collect();
        writes.extend(super::unroutable::notice(app, updated, &fresh, now)?);
    }
    let (before, after) = (waiting_skus(record), waiting_skus(updated));
    for sku in after.iter().filter(|sku| !before.contains(sku)) {
        writes.push(Tables::put_waiting(sku, &record.order.order_id)?);
    }
    for sku in before.iter().filter(|sku| !after.contains(sku)) {
        writes.push(Tables::delete_waiting(sku, &record.order.order_id));
    }
    Ok(writes)
}

/// The events of a routing, derived from the stored record so that a re-publication
/// carries the same ids.
pub fn routing_events(record: &OrderRecord) -> Vec<Envelope> {
    let order_id = &record.order.order_id;
    let at = record.routed_at.unwrap_or(record.order.updated_at);
    let mut events = vec![Envelope::new(EventType::OrderAccepted, order_id, None, "routed", at)];
    events.extend(record.vendors.iter().map(|vendor| Envelope::new(EventType::VendorOrderCreated, order_id, Some(vendor), "routed", at)));
    if !record.unroutable.is_empty() {
        events.push(Envelope::new(EventType::OrderUnroutable, order_id, None, "routed", at));
    }
    events
}
