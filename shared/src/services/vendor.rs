//! What a vendor does through the REST endpoint: authenticate with its key, read its
//! orders, and move them along (supplier order, shipment, delivery, cancellation).
//! Every change is conditional on the version read, so two writers never both win.

use super::{App, ServiceError};
use crate::domain::ids::{OrderId, VendorId};
use crate::domain::vendor_order::{Actor, Command, HistoryEntry, NUMBER_REUSE_DAYS, TransitionError, VendorOrder, VoState, parse_public_id};
use crate::ports::StoreError;
use crate::store::{ApiKeyRecord, IdempotencyRecord, NumberClaim, Tables, VendorProfile};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The stored form of an API key: the hex SHA-256 of the key.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

/// The vendor a bearer key belongs to; unknown and revoked keys are refused alike (the
/// key is looked up by its SHA-256, so no comparison of the key itself can leak its
/// characters by timing), a suspended vendor's with 403. The key's last day of use is
/// written when the day changes.
pub async fn authenticate(app: &App, key: Option<&str>) -> Result<VendorProfile, ServiceError> {
    let key = key.filter(|k| !k.trim().is_empty()).ok_or(ServiceError::Unauthorized)?;
    let hash = key_hash(key);
    let record = match app.tables.api_key(&hash).await? {
        Some(record) if !record.revoked => record,
        _ if key.trim().starts_with(super::operator::OPERATOR_KEY_PREFIX) && app.tables.operator_key(&hash).await?.is_some_and(|k| !k.revoked) => {
            return Err(ServiceError::Forbidden("an operator's key: the vendor routes take a vendor's key".into()));
        }
        _ => return Err(ServiceError::Unauthorized),
    };
    let vendor = app.tables.vendor(&record.vendor_id).await?.ok_or(ServiceError::Unauthorized)?;
    if vendor.suspended {
        return Err(ServiceError::Forbidden(format!("vendor {} is suspended; the marketplace operator can resume it", vendor.vendor_id)));
    }
    let today = app.clock.now().date_naive();
    if record.last_used != Some(today) {
        let used = ApiKeyRecord { last_used: Some(today), version: record.version + 1, ..record.clone() };
        // A lost race (another request, or a revocation) leaves the record as it is.
        match app.tables.put_api_key(&hash, &used, Some(record.version)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(e) => tracing::warn!(error = %e, "could not record a key's last use"),
        }
    }
    Ok(vendor)
}

/// One page of the vendor's orders, optionally in one state.
pub async fn list(
    app: &App,
    vendor: &VendorId,
    state: Option<&str>,
    cursor: Option<String>,
    limit: usize,
) -> Result<(Vec<VendorOrder>, Option<String>), ServiceError> {
    let state = match state.filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(VoState::parse(text).ok_or_else(|| ServiceError::BadRequest(format!("unknown state {text:?}")))?),
    };
    app.tables.vendor_orders(vendor, state, cursor, limit).await.map_err(listing_error)
}

/// A listing's store error as the client's: a forged cursor is a bad request.
pub fn listing_error(error: StoreError) -> ServiceError {
    match error {
        StoreError::BadCursor => ServiceError::BadRequest("the cursor is not one this API gave out".into()),
        other => other.into(),
    }
}

/// The answer to a request whose key was seen before: the order as it stands, when the
/// request is the same; 422 when the key came with another request.
async fn replay(app: &App, vendor: &VendorId, record: &IdempotencyRecord, hash: &str) -> Result<VendorOrder, ServiceError> {
    same_request(record, hash)?;
    load(app, vendor, &record.order).await
}

/// A key seen before must come with the same request (`hash`): 422 otherwise.
pub(super) fn same_request(record: &IdempotencyRecord, hash: &str) -> Result<(), ServiceError> {
    if record.request_hash != hash {
        return Err(ServiceError::Unprocessable("this Idempotency-Key was used with another request; use a new key for a new request".into()));
    }
    Ok(())
}

/// A request's `Idempotency-Key` with the fingerprint of the request it came with
/// (method, path and body, hashed): the same key sent with another request is refused
/// (422) rather than answered as the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

impl IdempotencyKey {
    /// `key` as sent with the request `method path` and `body`.
    pub fn of_request(key: &str, method: &str, path: &str, body: &[u8]) -> IdempotencyKey {
        let mut hash = Sha256::new();
        for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
            hash.update(part);
        }
        IdempotencyKey { key: key.to_string(), fingerprint: hex::encode(hash.finalize()) }
    }

    /// The record of this key still in force at `now`, if any, and else the version of
    /// an expired one to replace.
    pub(super) async fn seen(&self, app: &App, vendor: &VendorId, now: DateTime<Utc>) -> Result<(Option<IdempotencyRecord>, Option<u64>), ServiceError> {
        Ok(match app.tables.idempotency(vendor, &self.key).await? {
            Some(record) if !record.expired(now) => (Some(record), None),
            Some(expired) => (None, Some(expired.version)),
            None => (None, None),
        })
    }

    /// The write that remembers, with the change it rides along, that this request
    /// changed `subject` (an order's public id, a SKU) at `now`.
    pub(super) fn remember(&self, vendor: &VendorId, subject: String, now: DateTime<Utc>, replaces: Option<u64>) -> Result<crate::ports::Write, StoreError> {
        Tables::put_idempotency(vendor, &self.key, &IdempotencyRecord::new(&self.fingerprint, subject, now, replaces), replaces)
    }
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no order {id:?} for this vendor"))
}

async fn load(app: &App, vendor: &VendorId, id: &str) -> Result<VendorOrder, ServiceError> {
    let (order_id, round) = parse_public_id(id).ok_or_else(|| not_found(id))?;
    app.tables.vendor_order_in_round(&order_id, vendor, round).await?.ok_or_else(|| not_found(id))
}

/// One of the vendor's orders with its history and earnings; another vendor's order is not
/// found.
pub async fn get(app: &App, vendor: &VendorId, id: &str) -> Result<OrderView, ServiceError> {
    let order = load(app, vendor, id).await?;
    let id = order.id();
    let (history, earnings, purchases) = futures_util::future::try_join3(
        app.tables.history(&order),
        app.tables.earnings_of(vendor, &id),
        app.tables.purchases_of(&order.order_id, vendor, order.round),
    )
    .await?;
    Ok(OrderView { order, history, earnings, purchases })
}

/// One vendor order as its page shows it: the order, its history, and what its delivered
/// parcels earned (held until a date, then released).
#[derive(Debug, Clone)]
pub struct OrderView {
    pub order: VendorOrder,
    pub history: Vec<HistoryEntry>,
    pub earnings: Vec<crate::domain::ledger::Earning>,
    /// The supplier orders dropflow places for it (none on the manual path).
    pub purchases: Vec<crate::domain::supplier::Purchase>,
}

/// What a mutation must find before it applies: the version the client read (`If-Match`)
/// and its `Idempotency-Key` with the hash of the request it came with.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub if_match: Option<u64>,
    pub idempotency: Option<IdempotencyKey>,
}

/// The most of a vendor's orders one parcel may carry. A carrier's push for the parcel
/// updates all of them in one transaction, each with up to seven actions when it is
/// delivered (the order, its history, its earning, the ledger entry, the balance, two
/// events), within DynamoDB's 100; a parcel of more orders than this is rare, and they
/// ship under numbers of their own.
pub const MAX_ORDERS_PER_PARCEL: usize = 10;

/// The claim on `number` as read (to be rewritten on its version), after checking that
/// no other vendor's parcel holds the number (409 then, without saying whose it is) and
/// that the parcel has room for `order_id` (422).
async fn number_claim(app: &App, vendor: &VendorId, order_id: &OrderId, number: &str, now: DateTime<Utc>) -> Result<Option<NumberClaim>, ServiceError> {
    let tracked = app.tables.tracked(number).await?;
    let recent = chrono::Duration::days(NUMBER_REUSE_DAYS);
    let others = tracked.parcels.iter().filter(|p| &p.vendor_id == vendor && &p.order_id != order_id && p.shipped_at.is_none_or(|at| now - at < recent));
    if others.count() >= MAX_ORDERS_PER_PARCEL {
        return Err(ServiceError::Unprocessable(format!(
            "tracking number {number} already carries {MAX_ORDERS_PER_PARCEL} orders, the most one parcel may: ship this order under a number of its own"
        )));
    }
    for parcel in tracked.parcels.iter().filter(|p| &p.vendor_id != vendor) {
        let held = match parcel.shipped_at {
            Some(at) if now - at < recent => true,
            _ => app.tables.vendor_order_in_round(&parcel.order_id, &parcel.vendor_id, parcel.round).await?.is_some_and(|vo| vo.holds_number(number, now)),
        };
        if held {
            return Err(ServiceError::Conflict(format!("tracking number {number} is in use by another parcel: check the number")));
        }
    }
    Ok(tracked.claim)
}

/// The writes that make `transition` (of `command` on `current`) so: the order on the
/// version read, its history entry, its money, and a parcel's number filed (refused,
/// 409, while another vendor's parcel holds it). Whoever acts (the vendor, the supplier
/// automation) commits these with its own events and records.
pub(super) async fn change_writes(
    app: &App,
    current: &VendorOrder,
    transition: &crate::domain::vendor_order::Transition,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<Vec<crate::ports::Write>, ServiceError> {
    let mut writes =
        vec![Tables::put_vendor_order(&transition.vendor_order, Some(current.version))?, Tables::put_history(&transition.vendor_order, &transition.history)?];
    writes.extend(super::money::effects(app, current, &transition.vendor_order, now).await?.writes);
    // A parcel's number finds its orders when the carrier pushes news of it; it is
    // refused while another vendor's parcel holds it.
    let parcel = match command {
        Command::Ship { tracking, .. } => Some(tracking),
        // The corrected parcel leaves its wrong number's collection for the right one's.
        Command::CorrectTracking { from, to } => {
            let wrong = current.shipments.iter().find(|s| s.tracking.number.eq_ignore_ascii_case(from.trim())).map(|s| s.tracking.number.as_str());
            writes.extend(wrong.map(|number| Tables::drop_tracking(number, current)));
            Some(to)
        }
        _ => None,
    };
    if let Some(tracking) = parcel {
        let claim = number_claim(app, &current.vendor_id, &current.order_id, &tracking.number, now).await?;
        writes.extend(Tables::put_tracking(&tracking.number, &transition.vendor_order, now, claim.as_ref())?);
    }
    Ok(writes)
}

/// Applies a vendor's request to one of its orders and commits it with the events it
/// causes (and the idempotency record, when the request has a key). A key seen before
/// with the same request answers the order as it stands; with another request, 422. A
/// request for what already happened, with the same data, answers the order (200).
pub async fn act(app: &App, vendor: &VendorId, id: &str, command: Command, pre: &Preconditions) -> Result<VendorOrder, ServiceError> {
    let now = app.clock.now();
    let mut replaces = None;
    if let Some(key) = &pre.idempotency {
        match key.seen(app, vendor, now).await? {
            (Some(record), _) => return replay(app, vendor, &record, &key.fingerprint).await,
            (None, expired) => replaces = expired,
        }
    }
    // Another writer (the sweep firing a clock, the storefront) moved the order on: read
    // it again and apply the request to what it is now.
    match super::retry_on_conflict("a vendor's request", || act_once(app, vendor, id, &command, pre, replaces, now)).await {
        Err(ServiceError::Store(StoreError::ConditionFailed)) => {
            Err(ServiceError::Conflict("the order kept changing meanwhile; read it again and retry".into()))
        }
        outcome => outcome,
    }
}

/// Reads the order, applies the command and commits it with its effects, conditional on
/// the version read. A lost race that was this request's own (its write landed, or the
/// same key's other request did) answers as that write did.
async fn act_once(
    app: &App,
    vendor: &VendorId,
    id: &str,
    command: &Command,
    pre: &Preconditions,
    replaces: Option<u64>,
    now: DateTime<Utc>,
) -> Result<VendorOrder, ServiceError> {
    let current = load(app, vendor, id).await?;
    if let Some(expected) = pre.if_match
        && expected != current.version
    {
        return Err(ServiceError::PreconditionFailed(format!("the order is at version {}, not {expected}: read it again", current.version)));
    }
    let transition = match current.apply(command.clone(), Actor::Vendor(vendor.clone()), now, &app.config.sla) {
        Ok(transition) => transition,
        // What already happened, asked again with the same data: the order as it is.
        Err(_) if current.repeats(command) => return Ok(current),
        Err(e @ TransitionError::Illegal { .. }) => return Err(ServiceError::Conflict(e.to_string())),
        Err(TransitionError::Invalid(reason)) => return Err(ServiceError::Unprocessable(reason)),
    };
    let mut writes = change_writes(app, &current, &transition, command, now).await?;
    if let Some(key) = &pre.idempotency {
        writes.push(key.remember(vendor, current.id(), now, replaces)?);
    }
    match app.commit(writes, &transition.events).await {
        Ok(()) => Ok(transition.vendor_order),
        Err(StoreError::ConditionFailed) => {
            // The same key raced in with another request: answer as that one did.
            if let Some(key) = &pre.idempotency
                && let Some(record) = app.tables.idempotency(vendor, &key.key).await?.filter(|r| !r.expired(now) && Some(r.version) != replaces)
            {
                return replay(app, vendor, &record, &key.fingerprint).await;
            }
            // This very write landed and only its answer was lost (a timeout, then a
            // retry that met its own write): that is success.
            if app.tables.vendor_order_in_round(&current.order_id, vendor, current.round).await?.as_ref() == Some(&transition.vendor_order) {
                return Ok(transition.vendor_order);
            }
            Err(StoreError::ConditionFailed.into())
        }
        Err(other) => Err(other.into()),
    }
}
