//! What the operator finds and does, from the console (`/operator/*`) and the CLI
//! alike: find any order by what a customer or a carrier quotes, and act on it with a
//! reason. Each act is a domain command (the same transitions, events, mail and money
//! as everywhere) and is written into the order's own history (`OrderRecord::actions`)
//! in the transaction of its change.

use super::routing::{Working, hand_out, waiting_skus};
use super::{App, ServiceError};
use crate::domain::address::Address;
use crate::domain::events::{Envelope, EventType, MailResent};
use crate::domain::ids::{OrderId, VendorId};
use crate::domain::order::{CanonicalOrder, OperatorAction, ProductSpec, RoutedLine, Routing, SupplierSnapshot, unshippable};
use crate::domain::sla::ClockKind;
use crate::domain::vendor_order::{Actor, Command, TransitionError, VendorOrder, VoState};
use crate::ports::{DeadLetter, DeadLetterQueue, StoreError, Write};
use crate::store::{OrderRecord, OrderStatus, Tables, VendorProfile};

/// The longest reason taken, in characters.
const MAX_REASON_CHARS: usize = 500;

/// Who acts and why: every act of the operator carries both into the order's history.
#[derive(Debug, Clone, Copy)]
pub struct Act<'a> {
    /// The operator key's name, or `cli`.
    pub by: &'a str,
    pub reason: &'a str,
    /// The request's `Idempotency-Key`: an act on an order sent again with it (its
    /// answer was lost) is done once.
    pub key: Option<&'a super::vendor::IdempotencyKey>,
}

impl Act<'_> {
    /// The history entry of doing `action` now; a reason is required, on one line.
    fn entry(&self, app: &App, action: String) -> Result<OperatorAction, ServiceError> {
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(ServiceError::Unprocessable(format!(
                "a reason is needed (--reason on the command line, \"reason\" in the body): 1-{MAX_REASON_CHARS} characters on one line"
            )));
        }
        let idempotency = self.key.map(|k| (k.key.clone(), k.fingerprint.clone()));
        Ok(OperatorAction { at: app.clock.now(), by: self.by.to_string(), action, reason: reason.to_string(), idempotency })
    }
}

/// Whether `record` holds `entry`'s act already (sent again with its `Idempotency-Key`).
fn done_before(entry: &OperatorAction, record: &OrderRecord) -> Result<bool, ServiceError> {
    entry.done_in(record).map_err(ServiceError::Unprocessable)
}

/// The keyed hash an order is filed under by its customer's email (trimmed, lower-cased).
pub fn email_hash(app: &App, email: &str) -> String {
    super::keyed_hash(&app.config.email_lookup_key, &email.trim().to_lowercase())
}

/// The write that files `order` under its customer's email, when it has one.
pub fn email_filing(app: &App, order: &CanonicalOrder) -> Result<Option<Write>, StoreError> {
    order.customer_email.as_ref().map(|email| Tables::put_email_lookup(&email_hash(app, email.as_str()), &order.order_id)).transpose()
}

/// What to find: `q` a storefront number, dropflow id, customer email or tracking
/// number; else one vendor's orders (`state` then is a vendor-order state), else every
/// order (`state` one of `ORDER_LISTINGS`), newest first.
#[derive(Debug, Default)]
pub struct Find<'a> {
    pub q: Option<&'a str>,
    pub state: Option<&'a str>,
    pub vendor: Option<&'a str>,
    pub cursor: Option<String>,
    pub limit: usize,
}

/// The orders `find` names, newest first, with the cursor of the next page. Each way
/// in is one GetItem or Query on a key written for it: the order id, `NUM#`, `EMAIL#`,
/// `TRACK#`, a vendor's listing or the operator's.
pub async fn find(app: &App, find: Find<'_>) -> Result<(Vec<OrderRecord>, Option<String>), ServiceError> {
    let q = find.q.map(str::trim).filter(|q| !q.is_empty());
    if let Some(q) = q {
        let mut ids = super::operator::find_orders(app, q).await?;
        if q.contains('@') {
            ids.extend(app.tables.orders_by_email(&email_hash(app, q)).await?);
        } else if q.len() <= 100 {
            ids.extend(app.tables.tracked(q).await?.parcels.into_iter().map(|p| p.order_id));
        }
        ids.sort();
        ids.dedup();
        let mut found = Vec::new();
        for id in ids {
            found.extend(app.tables.order(&id).await?);
        }
        found.sort_by_key(|r| std::cmp::Reverse(r.order.created_at));
        return Ok((found, None));
    }
    if let Some(vendor) = find.vendor.filter(|v| !v.is_empty()) {
        let vendor = VendorId::parse(vendor).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        let (vendor_orders, cursor) = super::vendor::list(app, &vendor, find.state, find.cursor, find.limit).await?;
        let mut found: Vec<OrderRecord> = Vec::new();
        for vo in vendor_orders {
            if !found.iter().any(|r| r.order.order_id == vo.order_id) {
                found.extend(app.tables.order(&vo.order_id).await?);
            }
        }
        return Ok((found, cursor));
    }
    if let Some(listing) = find.state.filter(|l| !l.is_empty() && !crate::store::ORDER_LISTINGS.contains(l)) {
        return Err(ServiceError::BadRequest(format!("state {listing:?} is not one of {}", crate::store::ORDER_LISTINGS.join(", "))));
    }
    app.tables.orders(find.state.filter(|l| !l.is_empty()), find.cursor, find.limit).await.map_err(super::vendor::listing_error)
}

/// Voids lines of `order_id` that wait for a vendor (`unroutable::void`): the customer
/// is told they will be refunded and the storefront hears of it. Returns how many.
pub async fn void_lines(app: &App, order_id: &OrderId, line_ids: &[String], act: Act<'_>) -> Result<usize, ServiceError> {
    let entry = act.entry(app, format!("void lines {}", line_ids.join(", ")))?;
    let request = super::unroutable::Void { order_id, line_ids, by: super::unroutable::Voider::Operator, notice: None, now: entry.at, noted: Some(&entry) };
    match super::unroutable::void(app, request).await? {
        0 => Err(ServiceError::Conflict(format!("no line of {line_ids:?} waits for a vendor in order {order_id}"))),
        voided => Ok(voided),
    }
}

/// Where a given line is bought, when the vendor it goes to does not map its SKU.
#[derive(Debug, Clone)]
pub struct GivenSupplier {
    pub supplier_name: String,
    pub product_url: String,
    pub supplier_cost: crate::domain::money::Money,
}

/// Gives lines of `order_id` that wait for a vendor to `vendor`: they join its vendor
/// order as routing would have made it (a new one, or its latest while nothing of it
/// was ordered from the supplier) and the vendor is briefed. Each line is bought as the
/// vendor's own mapping of its SKU says, else from `supplier`. Returns how many.
pub async fn give_lines(
    app: &App,
    order_id: &OrderId,
    line_ids: &[String],
    vendor: &str,
    supplier: Option<&GivenSupplier>,
    act: Act<'_>,
) -> Result<usize, ServiceError> {
    let vendor = VendorId::parse(vendor).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let profile = app.tables.vendor(&vendor).await?.ok_or_else(|| ServiceError::NotFound(format!("no vendor {vendor}")))?;
    if profile.suspended {
        return Err(ServiceError::Conflict(format!("vendor {vendor} is suspended: resume it first")));
    }
    let entry = act.entry(app, format!("give lines {} to {vendor}", line_ids.join(", ")))?;
    super::retry_on_conflict("a give", || give_once(app, order_id, line_ids, &profile, supplier, &entry)).await
}

async fn give_once(
    app: &App,
    order_id: &OrderId,
    line_ids: &[String],
    vendor: &VendorProfile,
    supplier: Option<&GivenSupplier>,
    entry: &OperatorAction,
) -> Result<usize, ServiceError> {
    let record = app.tables.order(order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    if done_before(entry, &record)? {
        return Ok(line_ids.len());
    }
    if record.status != OrderStatus::Routed || record.order.payment != crate::domain::order::Payment::Paid {
        return Err(ServiceError::Conflict(format!("order {order_id} is {}: nothing of it can be given", record.listed_as())));
    }
    if record.order.shipping_address.is_none() {
        return Err(ServiceError::Conflict(format!(
            "order {order_id} has no shipping address a carrier takes: nothing of it can be given until the storefront sends one"
        )));
    }
    let mut lines = Vec::new();
    for (line, _) in record.unroutable_lines().filter(|(line, _)| line_ids.contains(&line.line_id)) {
        if let Some(why) = unshippable(line) {
            return Err(ServiceError::Conflict(format!("line {} cannot be sent ({why}): void it instead", line.line_id)));
        }
        if crate::domain::refund::refunded_in_full(line, &record.refunds) {
            return Err(ServiceError::Conflict(format!("line {} was refunded in full", line.line_id)));
        }
        lines.push(RoutedLine { line: line.clone(), supplier: bought_from(app, line, &vendor.vendor_id, supplier).await? });
    }
    let now = entry.at;
    let mut working: Vec<Working> = app.tables.vendor_orders_of(order_id).await?.into_iter().map(Working::read).collect();
    let mut events = Vec::new();
    let mut writes = Vec::new();
    for current in working.iter_mut().filter(|w| w.vo.state != VoState::Cancelled && w.vo.lines.iter().any(|l| line_ids.contains(&l.line.line_id))) {
        let taken = hand_over(app, current, line_ids, &vendor.vendor_id, now, &mut events, &mut writes).await?;
        for line in taken {
            let supplier = bought_from(app, &line, &vendor.vendor_id, supplier).await?;
            lines.push(RoutedLine { line, supplier });
        }
    }
    if lines.len() != line_ids.len() {
        return Err(ServiceError::Conflict(format!(
            "not every line of {line_ids:?} waits for a vendor, or is in a vendor order given whole, in order {order_id}"
        )));
    }
    let routing = Routing { by_vendor: [(vendor.vendor_id.clone(), lines)].into_iter().collect(), unroutable: Vec::new() };
    let mut next = record.clone();
    let given = hand_out(app, &mut working, &routing, &format!("given-v{}", record.version + 1), now, &mut events, &mut next)?;
    next.unroutable.retain(|u| !given.contains(&u.line_id));
    next.actions.push(entry.clone());
    next.version = record.version + 1;
    writes.push(Tables::put_order(&next, Some(record.version))?);
    writes.extend(Working::writes(&working)?);
    writes.extend(super::routing::joined_purchases(app, &working, now).await?);
    let still_waiting = waiting_skus(&next);
    writes.extend(waiting_skus(&record).iter().filter(|sku| !still_waiting.contains(sku)).map(|sku| Tables::delete_waiting(sku, order_id)));
    app.commit(writes, &events).await?;
    Ok(given.len())
}

/// The answer to an operator's command the vendor order refuses: a state that does not
/// allow it is a conflict, a bad value unprocessable.
fn refused(e: TransitionError) -> ServiceError {
    match e {
        TransitionError::Illegal { .. } => ServiceError::Conflict(e.to_string()),
        TransitionError::Invalid(reason) => ServiceError::Unprocessable(reason),
    }
}

/// Hands `current`, a vendor order holding some of `line_ids`, over to `to`: only whole,
/// and only while nothing of it was ordered from the supplier, by its vendor or by
/// dropflow (a supplier order dropflow prepared but did not start is cancelled with it,
/// conditionally: a sync that starts it meanwhile makes this give retry and refuse).
/// Returns the lines that go on with `to`.
async fn hand_over(
    app: &App,
    current: &mut Working,
    line_ids: &[String],
    to: &VendorId,
    now: chrono::DateTime<chrono::Utc>,
    events: &mut Vec<Envelope>,
    writes: &mut Vec<Write>,
) -> Result<Vec<crate::domain::order::OrderLine>, ServiceError> {
    let vo = current.vo.clone();
    let from = &vo.vendor_id;
    if from == to {
        return Err(ServiceError::Conflict(format!("vendor {to} has these lines already")));
    }
    if vo.state != VoState::AwaitingSupplier || !vo.supplier_orders.is_empty() {
        return Err(ServiceError::Conflict(format!(
            "vendor {from} has ordered its part from the supplier already ({}): it cannot be given; the vendor cancels it first",
            vo.state.as_str()
        )));
    }
    let live: Vec<&str> = vo.lines.iter().filter(|l| l.line.quantity > 0).map(|l| l.line.line_id.as_str()).collect();
    if let Some(missing) = live.iter().find(|id| !line_ids.iter().any(|l| l == *id)) {
        return Err(ServiceError::Conflict(format!("vendor {from}'s order is given whole: name its line {missing} too ({})", live.join(", "))));
    }
    if !vo.refunds.is_empty() {
        return Err(ServiceError::Conflict(format!("vendor {from}'s order has refunds recorded: it cannot be given; void what is left instead")));
    }
    for purchase in app.tables.purchases_of(&vo.order_id, from, vo.round).await? {
        use crate::domain::supplier::PurchaseState::*;
        match purchase.state {
            Prepared | Placing if purchase.placing_since.is_none() => writes.push(super::supplier::settled(&purchase, Cancelled, now)?),
            Failed | Manual | Cancelled => {}
            state => {
                return Err(ServiceError::Conflict(format!(
                    "dropflow is ordering vendor {from}'s part from {} ({state:?}): it cannot be given until that ends",
                    purchase.api.display_name()
                )));
            }
        }
    }
    events.extend(current.apply(Command::HandOver { to: to.clone() }, Actor::Operator, now, &app.config.sla).map_err(refused)?);
    Ok(vo.lines.into_iter().filter(|l| l.line.quantity > 0).map(|l| l.line).collect())
}

/// How `line` is bought by `vendor`: its own mapping of the SKU, else `given`.
async fn bought_from(
    app: &App,
    line: &crate::domain::order::OrderLine,
    vendor: &VendorId,
    given: Option<&GivenSupplier>,
) -> Result<SupplierSnapshot, ServiceError> {
    if let Some(sku) = &line.sku
        && let Some(mapping) = app.tables.product(sku).await?.filter(|m| &m.vendor_id == vendor && !m.awaiting_approval)
    {
        return Ok(mapping.into());
    }
    let Some(given) = given else {
        return Err(ServiceError::Unprocessable(format!(
            "vendor {vendor} does not map the SKU of line {}: say where it is bought (supplier_name, product_url, cost)",
            line.line_id
        )));
    };
    let spec = ProductSpec {
        sku: line.sku.as_ref().map_or_else(|| line.line_id.clone(), |s| s.to_string()),
        supplier_name: given.supplier_name.clone(),
        product_url: given.product_url.clone(),
        supplier_cost: given.supplier_cost,
        supplier_variant: None,
        automation: Default::default(),
    };
    Ok(spec.parse(vendor).map_err(|e| ServiceError::Unprocessable(e.to_string()))?.into())
}

/// Ships `order_id` to `address` from now on: every vendor order not yet shipped takes
/// it (its vendor is mailed), lines that waited for a usable address are routed, and the
/// fix stands against the storefront's later updates while they carry the address it
/// replaced (`OrderRecord::keeping_fix`). Vendor orders that shipped already are listed
/// for the operator. Returns how many vendor orders took the address.
pub async fn fix_address(app: &App, order_id: &OrderId, address: &Address, act: Act<'_>) -> Result<usize, ServiceError> {
    let entry = act.entry(app, format!("fix the shipping address to {}", address.lines().join(", ")))?;
    super::retry_on_conflict("an address fix", || fix_address_once(app, order_id, address, &entry)).await
}

async fn fix_address_once(app: &App, order_id: &OrderId, address: &Address, entry: &OperatorAction) -> Result<usize, ServiceError> {
    let record = app.tables.order(order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    if done_before(entry, &record)? {
        return Ok(0);
    }
    if record.is_redacted() {
        return Err(ServiceError::Conflict(format!("order {order_id} was erased at the storefront's request")));
    }
    if record.order.shipping_address.as_ref() == Some(address) {
        return Err(ServiceError::Conflict(format!("order {order_id} ships to that address already")));
    }
    let order = CanonicalOrder { shipping_address: Some(address.clone()), address_problem: None, ..record.order.clone() };
    match record.status {
        OrderStatus::Routed if record.order.payment == crate::domain::order::Payment::Paid => {
            match super::intake::follow_storefront(app, &record, &order, Vec::new(), Some(entry)).await? {
                super::Outcome::Updated(followed) => Ok(followed),
                _ => Ok(0),
            }
        }
        // Not paid yet: it routes to the fixed address once it is.
        OrderStatus::Held => {
            let mut next = OrderRecord { order, version: record.version + 1, address_fix: Some(record.fixed_at(entry.at)), ..record.clone() };
            next.former_addresses.extend(record.order.shipping_address.clone());
            next.actions.push(entry.clone());
            app.commit(vec![Tables::put_order(&next, Some(record.version))?], &[]).await?;
            Ok(0)
        }
        _ => Err(ServiceError::Conflict(format!("order {order_id} is {}: it ships nowhere", record.listed_as()))),
    }
}

/// Sends one mail of `order_id`'s event `event_id` again, to `to` only (who got it the
/// first time): a `mail_resent` event, committed with the act, which the notifier sends
/// once, composed as the first was from the order as it stands now.
pub async fn resend_mail(app: &App, order_id: &OrderId, event_id: &str, to: &str, act: Act<'_>) -> Result<(), ServiceError> {
    let to = to.trim();
    let original = app
        .tables
        .events(order_id)
        .await?
        .into_iter()
        .find(|e| e.event_id == event_id.trim())
        .ok_or_else(|| ServiceError::NotFound(format!("order {order_id} keeps no event {event_id:?} (events are kept 7 days)")))?;
    if original.event_type == EventType::MailResent {
        return Err(ServiceError::Conflict("that is a resend: resend the mail it sent again".into()));
    }
    if app.tables.sent_message_id(&original.event_id, to).await?.is_none() {
        return Err(ServiceError::Conflict(format!("no mail of event {event_id} went to {to:?}")));
    }
    let entry = act.entry(app, format!("resend the {} mail to {to}", original.event_type.as_str()))?;
    super::retry_on_conflict("a resend", || async {
        let record = app.tables.order(order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
        if done_before(&entry, &record)? {
            return Ok(());
        }
        let mut next = record.clone();
        next.actions.push(entry.clone());
        next.version = record.version + 1;
        let resent = MailResent { event: Box::new(original.clone()), to: to.to_string() };
        let event = Envelope::new(EventType::MailResent, order_id, original.vendor_id.as_ref(), &format!("resend-v{}", next.version), entry.at).with(&resent);
        app.commit(vec![Tables::put_order(&next, Some(record.version))?], &[event]).await?;
        Ok(())
    })
    .await
}

/// Gives `vendor`'s open vendor order in `order_id` `hours` more for its `kind` clock
/// (`Command::ExtendClock`): the vendor is mailed the new deadline. The vendor order as
/// it stands now.
pub async fn extend_clock(app: &App, order_id: &OrderId, vendor: &str, kind: ClockKind, hours: u32, act: Act<'_>) -> Result<VendorOrder, ServiceError> {
    let vendor = VendorId::parse(vendor).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let entry = act.entry(app, format!("extend the {} clock of {vendor} by {hours} h", kind.as_str()))?;
    super::retry_on_conflict("an extension", || command_once(app, order_id, &vendor, Command::ExtendClock { kind, hours }, &entry)).await
}

/// Applies `command` as the operator's to `vendor`'s open vendor order in `order_id`
/// (its latest round), committed with the act in the order's history.
async fn command_once(app: &App, order_id: &OrderId, vendor: &VendorId, command: Command, entry: &OperatorAction) -> Result<VendorOrder, ServiceError> {
    let record = app.tables.order(order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    let vo = app
        .tables
        .vendor_orders_of(order_id)
        .await?
        .into_iter()
        .filter(|vo| &vo.vendor_id == vendor && vo.state != VoState::Cancelled)
        .max_by_key(|vo| vo.round)
        .ok_or_else(|| ServiceError::NotFound(format!("vendor {vendor} has no open vendor order in order {order_id}")))?;
    if done_before(entry, &record)? {
        return Ok(vo);
    }
    let transition = vo.apply(command, Actor::Operator, entry.at, &app.config.sla).map_err(refused)?;
    let mut next = record.clone();
    next.actions.push(entry.clone());
    next.version = record.version + 1;
    let writes = vec![
        Tables::put_order(&next, Some(record.version))?,
        Tables::put_vendor_order(&transition.vendor_order, Some(vo.version))?,
        Tables::put_history(&transition.vendor_order, &transition.history)?,
    ];
    app.commit(writes, &transition.events).await?;
    Ok(transition.vendor_order)
}

/// A vendor held for review (`Hold`: its new orders wait) or suspended (`Suspend`: its
/// keys refused too), or either undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorState {
    Hold(bool),
    Suspend(bool),
}

/// Puts a vendor in `state`: releasing or resuming routes what waited. Logged with who
/// and why; returns the profile and how many lines were routed.
pub async fn set_vendor_state(app: &App, vendor: &str, state: VendorState, act: Act<'_>) -> Result<(VendorProfile, usize), ServiceError> {
    act.entry(app, String::new())?;
    let changes = match state {
        VendorState::Hold(held) => super::operator::VendorChanges { held: Some(held), ..Default::default() },
        VendorState::Suspend(suspended) => super::operator::VendorChanges { suspended: Some(suspended), ..Default::default() },
    };
    let done = super::operator::update_vendor(app, vendor, changes).await?;
    tracing::info!(vendor, ?state, by = act.by, reason = act.reason, "vendor state changed by the operator");
    Ok(done)
}

/// Approves or refuses a vendor's claim on a SKU that orders waited for
/// (`products::approve`, `products::refuse`); returns how many lines an approval routed.
pub async fn decide_claim(app: &App, sku: &str, approve: bool, act: Act<'_>) -> Result<usize, ServiceError> {
    act.entry(app, String::new())?;
    let routed = if approve { super::products::approve(app, sku).await?.1 } else { super::products::refuse(app, sku).await.map(|_| 0)? };
    tracing::info!(sku, approve, by = act.by, reason = act.reason, "SKU claim decided by the operator");
    Ok(routed)
}

/// The dead letter `id`, in whichever queue it sits.
pub async fn dead_letter(app: &App, id: &str) -> Result<(DeadLetterQueue, DeadLetter), ServiceError> {
    for queue in DeadLetterQueue::ALL {
        if let Some(letter) = app.queues.dead_letters(queue).await?.into_iter().find(|l| l.message_id == id) {
            return Ok((queue, letter));
        }
    }
    Err(ServiceError::NotFound(format!("no dead letter {id:?}")))
}

/// Every dead letter of every queue, oldest first where known.
pub async fn dead_letters(app: &App) -> Result<Vec<DeadLetter>, ServiceError> {
    let mut letters = Vec::new();
    for queue in DeadLetterQueue::ALL {
        letters.extend(app.queues.dead_letters(queue).await?);
    }
    letters.sort_by_key(|l| l.first_seen);
    Ok(letters)
}

/// Sends the dead letter `id` back to its queue, alone: sent first, then taken out of
/// the dead letters (a crash between leaves it in both; its consumer is idempotent).
pub async fn replay_dead_letter(app: &App, id: &str, act: Act<'_>) -> Result<DeadLetterQueue, ServiceError> {
    act.entry(app, String::new())?;
    let (queue, letter) = dead_letter(app, id).await?;
    app.publisher.publish(queue.home(), letter.body).await?;
    app.queues.discard_dead_letter(queue, id).await?;
    tracing::info!(dead_letter = %id, queue = queue.as_str(), by = act.by, reason = act.reason, "dead letter replayed by the operator");
    Ok(queue)
}

/// Deletes the dead letter `id`, which is not to be processed; the reason is logged.
pub async fn discard_dead_letter(app: &App, id: &str, act: Act<'_>) -> Result<DeadLetterQueue, ServiceError> {
    act.entry(app, String::new())?;
    for queue in DeadLetterQueue::ALL {
        if app.queues.discard_dead_letter(queue, id).await? {
            tracing::info!(dead_letter = %id, queue = queue.as_str(), by = act.by, reason = act.reason, "dead letter discarded by the operator");
            return Ok(queue);
        }
    }
    Err(ServiceError::NotFound(format!("no dead letter {id:?}")))
}

/// Runs the payouts now, as the daily `payout-release` does (holds that ended released,
/// a payout per vendor and currency owed the minimum); the act is logged with its reason.
pub async fn run_payouts(app: &App, act: Act<'_>) -> Result<super::money::PayoutReport, ServiceError> {
    act.entry(app, String::new())?;
    let report = super::money::run(app, app.clock.now(), None).await?;
    tracing::info!(by = act.by, reason = act.reason, released = report.released, payouts = report.payouts.len(), "payouts run by the operator");
    Ok(report)
}

/// Records that payout `payout_id` was transferred with `reference` (its amount moves
/// to paid out and the vendor is mailed); the act is logged with its reason.
pub async fn mark_payout_paid(app: &App, payout_id: &str, reference: &str, act: Act<'_>) -> Result<crate::domain::ledger::Payout, ServiceError> {
    act.entry(app, String::new())?;
    let paid = super::money::mark_paid(app, payout_id, reference).await?;
    tracing::info!(payout = payout_id, reference, by = act.by, reason = act.reason, "payout marked paid by the operator");
    Ok(paid)
}

/// Calls to a supplier failing this many times in a row make its supplier order a
/// decision (the sync goes on trying; someone may have to look at the account).
const FAILING_SUPPLIER_CALLS: u32 = 3;

/// Supplier orders whose calls keep failing (the supplier down, an account refused):
/// from the supplier-sync's due index, within the longest backoff from now.
async fn failing_supplier_orders(app: &App) -> Result<Vec<Decision>, ServiceError> {
    let mut failing = Vec::new();
    let horizon = app.clock.now() + chrono::Duration::minutes(crate::domain::supplier::MAX_BACKOFF_MINUTES + 1);
    for key in due_keys(app, crate::store::Due::Purchases, horizon).await? {
        let Some(purchase) = app.tables.purchase_at(&key).await?.filter(|p| p.failures >= FAILING_SUPPLIER_CALLS) else { continue };
        let detail = format!(
            "vendor {}'s supplier order at {}: {} calls failed in a row; the sync tries again",
            purchase.vendor_id,
            purchase.api.display_name(),
            purchase.failures
        );
        failing.push(Decision { kind: "supplier_sync", subject: purchase.order_id.to_string(), detail, since: Some(purchase.updated_at) });
    }
    Ok(failing)
}

/// Vendor orders with a step overdue past its escalation to the operator (the late
/// index, whole): each waits for the operator until its vendor acts, or the operator
/// extends its clock, gives it to another vendor or has it cancelled.
async fn overdue_vendor_orders(app: &App) -> Result<Vec<Decision>, ServiceError> {
    let mut overdue = Vec::new();
    for key in due_keys(app, crate::store::Due::Late, Tables::END_OF_TIME).await? {
        let Some(vo) = app.tables.vendor_order_at(&key).await? else { continue };
        let steps: Vec<&str> = vo.escalated().into_iter().map(|kind| kind.as_str()).collect();
        if steps.is_empty() {
            continue;
        }
        let since = vo.clocks.iter().filter_map(|c| c.overdue_since).min();
        let detail = format!("order {}: vendor {} is past its deadline to {} and was escalated", vo.order_number, vo.vendor_id, steps.join(", "));
        overdue.push(Decision { kind: "overdue", subject: vo.order_id.to_string(), detail, since });
    }
    Ok(overdue)
}

/// Every key of the due index `due` up to `horizon`, shard by shard, page by page.
async fn due_keys(app: &App, due: crate::store::Due, horizon: chrono::DateTime<chrono::Utc>) -> Result<Vec<crate::store::DueKey>, ServiceError> {
    let mut all = Vec::new();
    for shard in 0..crate::store::DUE_SHARDS {
        let mut cursor = None;
        loop {
            let (keys, next) = app.tables.due(due, shard, horizon, cursor, 100).await?;
            all.extend(keys);
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(all)
}

/// One thing that waits for the operator's decision.
#[derive(Debug, Clone)]
pub struct Decision {
    /// `waiting_lines`, `supplier_sync`, `overdue`, `dead_letter` or `sku_claim`.
    pub kind: &'static str,
    /// An order id, a dead letter's id, a SKU.
    pub subject: String,
    pub detail: String,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The most decisions the queue lists.
const MAX_DECISIONS: usize = 200;

/// What waits for the operator, oldest first (undated last): lines no vendor has (from
/// the sparse notice index, not a scan), dead letters, and SKU claims to approve.
pub async fn decisions(app: &App) -> Result<Vec<Decision>, ServiceError> {
    let mut queue = Vec::new();
    let waited = chrono::Duration::hours(i64::from(app.config.unroutable_notice_hours));
    let horizon = app.clock.now() + waited + chrono::Duration::days(1);
    for key in due_keys(app, crate::store::Due::Notices, horizon).await? {
        let Some(notice) = app.tables.line_notice_at(&key).await? else { continue };
        let Some(record) = app.tables.order(&notice.order_id).await? else { continue };
        let waiting: Vec<String> =
            record.unroutable.iter().filter(|u| notice.line_ids.contains(&u.line_id)).map(|u| format!("line {}: {}", u.line_id, u.reason)).collect();
        if !waiting.is_empty() {
            let detail = format!("order {} waits: {}", record.order.order_number, waiting.join("; "));
            queue.push(Decision { kind: "waiting_lines", subject: notice.order_id.to_string(), detail, since: Some(notice.due - waited) });
        }
    }
    queue.extend(failing_supplier_orders(app).await?);
    queue.extend(overdue_vendor_orders(app).await?);
    for letter in dead_letters(app).await? {
        let why = letter.reason.clone().unwrap_or_else(|| format!("failed {} receives", letter.receive_count));
        queue.push(Decision { kind: "dead_letter", subject: letter.message_id, detail: format!("{} queue: {why}", letter.queue), since: letter.first_seen });
    }
    for claim in app.tables.sku_claims().await? {
        let detail = format!("vendor {} claims SKU {}, which orders wait for", claim.vendor_id, claim.sku);
        queue.push(Decision { kind: "sku_claim", subject: claim.sku.to_string(), detail, since: None });
    }
    queue.sort_by_key(|d| (d.since.is_none(), d.since));
    queue.truncate(MAX_DECISIONS);
    Ok(queue)
}
