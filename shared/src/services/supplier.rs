//! Supplier automation: connecting a vendor's supplier account, placing the supplier
//! orders of lines on `auto` (and on `review` once the vendor confirms), and following
//! them until delivered, each step recorded on the vendor order exactly as the vendor's
//! own requests record it (the same transitions, events, clocks and mail).
//!
//! Exactly once: a purchase is placed under an id of its own (`Purchase::out_order_id`)
//! that every retry sends again. Its create call is leased (`placing_since`), so two
//! runs never send it at once; a call whose answer was lost (a timeout, a kill) is
//! marked `sent`, and the next run asks the supplier for the order under that id first
//! where it can (CJ), or sends the same create again where the id is the supplier's
//! idempotency key (AliExpress, 24 hours; a repeat is `REPEATED_ORDER_ERROR`: placed,
//! its number unknown, the vendor asked to confirm it). The purchase and the vendor
//! order change in one transaction.

use super::{App, ServiceError};
use crate::domain::events::{Envelope, EventType, SupplierNeedsVendor};
use crate::domain::ids::{SupplierOrderRef, VendorId};
use crate::domain::money::Money;
use crate::domain::supplier::{Purchase, PurchaseState, SupplierApi, SupplierConnection, SupplierLink, SupplierParcel, SupplierStatus};
use crate::domain::vendor_order::{Actor, CarrierStatus, Checkpoint, Command, VendorOrder, VoState};
use crate::ports::{SupplierClient, SupplierCredentials, SupplierError, SupplierOrderLine, SupplierOrderRequest, Write};
use crate::store::{HookOwner, PurchaseRef, Tables};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// How many due purchases one page of the due index gives.
const PAGE: usize = 50;

/// The most supplier calls one purchase's step makes (a token refresh, a lookup, a
/// price check and the create; or an order and its tracking read back).
const CALLS_PER_STEP: u64 = 4;

/// How close the supplier-order deadline must be for the operator to hear that a
/// purchase went back to its vendor.
const OPERATOR_NEAR_HOURS: i64 = 6;

/// What one supplier-sync run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Purchases the supplier created in this run.
    pub placed: usize,
    /// Purchases read back.
    pub followed: usize,
    /// Parcels recorded as shipped (and deliveries).
    pub shipped: usize,
    pub delivered: usize,
    /// Purchases handed back to their vendor.
    pub handed_back: usize,
    /// Calls that failed for now (retried later).
    pub deferred: usize,
    /// False when the run stopped at its deadline: what is left is due at the next run.
    pub complete: bool,
}

/// The writes that start a new vendor order's purchases (lines on `review` or `auto`),
/// to commit with the vendor order itself.
pub fn purchases_for(vo: &VendorOrder, now: DateTime<Utc>) -> Result<Vec<Write>, crate::ports::StoreError> {
    Purchase::for_vendor_order(vo, now).iter().map(|p| Tables::put_purchase(p, None)).collect()
}

/// The keyed hash a push's account (CJ's `openId`) is filed under, so that the table
/// never holds an `openId` itself.
pub fn hook_hash(app: &App, account: &str) -> String {
    super::keyed_hash(&app.config.suppliers.hook_key, account)
}

fn client(app: &App, api: SupplierApi) -> Result<&Arc<dyn SupplierClient>, ServiceError> {
    app.suppliers.get(&api).ok_or_else(|| match api {
        SupplierApi::Aliexpress => ServiceError::Unprocessable("AliExpress is not configured: set ALIEXPRESS_APP_KEY and ALIEXPRESS_APP_SECRET".into()),
        SupplierApi::Cj => ServiceError::Unprocessable("this process does not call suppliers".into()),
    })
}

fn sealer(app: &App) -> Result<&Arc<dyn crate::ports::Sealer>, ServiceError> {
    app.sealer.as_ref().ok_or_else(|| ServiceError::Internal("no key to seal supplier credentials with in this process".into()))
}

fn supplier_said(api: SupplierApi, error: &SupplierError) -> ServiceError {
    match error {
        SupplierError::Unavailable { reason, .. } => ServiceError::Busy { reason: format!("{}: {reason}", api.display_name()), until: None },
        other => ServiceError::Unprocessable(format!("{}: {other}", api.display_name())),
    }
}

/// Connects a vendor's account at `api` with what the vendor gave (AliExpress's OAuth
/// code, CJ's API key): the supplier's credentials sealed for the vendor and kept,
/// replacing an earlier connection. The grant and the tokens are never logged.
pub async fn connect(app: &App, vendor_id: &VendorId, api: SupplierApi, grant: &str) -> Result<SupplierConnection, ServiceError> {
    if grant.trim().is_empty() {
        return Err(ServiceError::Unprocessable("give the OAuth code (AliExpress) or the API key (CJ)".into()));
    }
    app.tables.vendor(vendor_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no vendor {vendor_id}")))?;
    let now = app.clock.now();
    let credentials = client(app, api)?.connect(grant, now).await.map_err(|e| supplier_said(api, &e))?;
    let existing = app.tables.supplier_connection(vendor_id, api).await?;
    let connection = keep(app, vendor_id, api, &credentials, existing.as_ref(), now).await?;
    let mut writes = vec![Tables::put_supplier_connection(&connection, existing.as_ref().map(|c| c.version))?];
    if let Some(open_id) = &credentials.open_id {
        writes.push(Tables::put_hook_owner(&hook_hash(app, open_id), &HookOwner { vendor_id: vendor_id.clone(), api })?);
    }
    app.commit(writes, &[]).await?;
    tracing::info!(vendor = %vendor_id, supplier = api.as_str(), "supplier account connected");
    Ok(connection)
}

/// How long a vendor has to finish an AliExpress authorization it started.
const AUTHORIZE_MINUTES: i64 = 15;

/// Where a supplier sends a vendor back after its authorization (under the API's
/// public address).
pub const CALLBACK_PATH: &str = "/vendor/suppliers/aliexpress/callback";

/// Starts a vendor's AliExpress authorization (its OAuth flow): a single-use state is
/// kept for `AUTHORIZE_MINUTES`, and the vendor is to be sent to the authorize URL
/// returned (with `CALLBACK_PATH` under `PUBLIC_BASE_URL` as where AliExpress sends it
/// back: the same address must be the app's callback in AliExpress's App Console).
/// The state is a random nonce looked up by the callback, so the callback needs no
/// key of its own and a state can neither be forged nor used twice.
pub async fn authorize(app: &App, vendor_id: &VendorId) -> Result<(String, DateTime<Utc>), ServiceError> {
    let Some((app_key, _)) = &app.config.suppliers.aliexpress_app else {
        return Err(ServiceError::Unprocessable("AliExpress is not configured: the operator sets ALIEXPRESS_APP_KEY and ALIEXPRESS_APP_SECRET".into()));
    };
    let Some(public) = &app.config.public_base_url else {
        return Err(ServiceError::Unprocessable("the operator has not set PUBLIC_BASE_URL, where AliExpress sends the vendor back to".into()));
    };
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|e| ServiceError::Internal(format!("no randomness for an authorization: {e}")))?;
    let state = hex::encode(nonce);
    let now = app.clock.now();
    let until = now + Duration::minutes(AUTHORIZE_MINUTES);
    let started = crate::store::OauthState { vendor_id: vendor_id.clone(), api: SupplierApi::Aliexpress, ttl: until.timestamp(), version: 1 };
    app.commit(vec![Tables::put_oauth_state(&state, &started)?], &[]).await?;
    let mut url = url::Url::parse(&format!("{}/oauth/authorize", app.config.suppliers.aliexpress_url)).map_err(|e| ServiceError::Internal(e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("force_auth", "true")
        .append_pair("redirect_uri", &format!("{}{CALLBACK_PATH}", public.trim_end_matches('/')))
        .append_pair("client_id", app_key)
        .append_pair("state", &state)
        .append_pair("sp", "ae");
    Ok((url.into(), until))
}

/// AliExpress sent a vendor back with `code` for the authorization started under
/// `state`: the state is used up (once, before it runs out) and the code exchanged for
/// the vendor's credentials, as `connect` does.
pub async fn authorized(app: &App, state: &str, code: &str) -> Result<SupplierConnection, ServiceError> {
    let gone = || ServiceError::Unprocessable("this authorization ran out or was used already: start it again from the dashboard".into());
    if state.is_empty() || state.len() > 64 || !state.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let started = app.tables.oauth_state(state).await?.filter(|s| s.ttl > app.clock.now().timestamp()).ok_or_else(gone)?;
    app.commit(vec![Tables::take_oauth_state(state, &started)], &[]).await.map_err(|e| match e {
        crate::ports::StoreError::ConditionFailed => gone(),
        other => other.into(),
    })?;
    connect(app, &started.vendor_id, started.api, code).await
}

/// Checks a SKU's supplier link with the vendor's own account before the mapping is
/// kept (a link is what dropflow will buy with, unattended): the product and its
/// variant exist and are on sale, the shipping method is one the supplier offers to
/// `SUPPLIER_CHECK_COUNTRY`, and the price is within the vendor's tolerance of `cost`.
/// Two calls (product, freight); an account not connected yet is refused, since
/// nothing can be checked (or bought) without it. The link kept names the variant and
/// the method as the supplier spells them (what its orders take).
pub async fn check_link(app: &App, vendor_id: &VendorId, link: &SupplierLink, cost: Money) -> Result<SupplierLink, ServiceError> {
    let api = link.api;
    let client = client(app, api)?.clone();
    let creds = match credentials(app, vendor_id, api, false).await {
        Ok(Some(creds)) => creds,
        Ok(None) => {
            return Err(ServiceError::Unprocessable(format!(
                "connect the vendor's {} account first: dropflow checks the product with it (dropflow supplier connect)",
                api.display_name()
            )));
        }
        Err(error) => return Err(supplier_said(api, &error)),
    };
    let country = app.config.suppliers.check_country.as_str();
    let offer = client.offer(&creds, link, country, cost.currency).await.map_err(|e| supplier_said(api, &e))?;
    let methods = client.methods(&creds, link, &offer, country).await.map_err(|e| supplier_said(api, &e))?;
    let Some(method) = methods.iter().find(|m| m.eq_ignore_ascii_case(link.shipping_method.trim())) else {
        let offered = if methods.is_empty() { "none".to_string() } else { methods.join(", ") };
        return Err(ServiceError::Unprocessable(format!(
            "shipping_method: {} does not offer {:?} for this variant to {country}; it offers: {offered}",
            api.display_name(),
            link.shipping_method
        )));
    };
    if let Some(price) = offer.unit_price {
        link.price_within(cost, price).map_err(|reason| ServiceError::Unprocessable(format!("supplier_cost: {reason}")))?;
    }
    Ok(SupplierLink { sku: offer.sku.clone(), shipping_method: method.clone(), ..link.clone() })
}

/// Whether the lines of `order` may still be bought as mapped: each line whose link
/// carries a price tolerance is priced again (to the customer's country), and a price
/// risen beyond it, or a variant sold out, is a refusal in words (the vendor decides).
/// Lines without a tolerance cost no call.
async fn still_as_mapped(client: &dyn SupplierClient, creds: &SupplierCredentials, vo: &VendorOrder, purchase: &Purchase) -> Result<(), SupplierError> {
    let country = vo.shipping_address.country_code.as_str();
    for line in vo.lines.iter().filter(|l| purchase.line_ids.contains(&l.line.line_id)) {
        let Some(link) = line.supplier.link.as_ref().filter(|l| l.price_tolerance_percent.is_some()) else { continue };
        let cost = line.supplier.supplier_cost;
        let sku = line.line.sku.as_ref().map_or_else(|| line.line.title.clone(), |s| s.to_string());
        let offer = client.offer(creds, link, country, cost.currency).await?;
        if offer.stock.is_some_and(|units| units < u64::from(line.line.quantity)) {
            let reason = format!("{} has {} of {} in stock, {} ordered", link.api.display_name(), offer.stock.unwrap_or_default(), sku, line.line.quantity);
            return Err(SupplierError::Refused { code: "OUT_OF_STOCK".into(), reason });
        }
        if let Some(price) = offer.unit_price {
            link.price_within(cost, price).map_err(|reason| SupplierError::Refused { code: "PRICE_CHANGED".into(), reason: format!("{reason} ({sku})") })?;
        }
    }
    Ok(())
}

/// The connection that keeps `credentials`, sealed for the vendor, after `existing`.
async fn keep(
    app: &App,
    vendor_id: &VendorId,
    api: SupplierApi,
    credentials: &SupplierCredentials,
    existing: Option<&SupplierConnection>,
    now: DateTime<Utc>,
) -> Result<SupplierConnection, ServiceError> {
    let plain = serde_json::to_vec(credentials).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let sealed = sealer(app)?.seal(vendor_id.as_str(), &plain).await.map_err(|e| ServiceError::Busy { reason: e.to_string(), until: None })?;
    let renewed_refresh = existing.is_none_or(|e| e.refresh_expires_at != credentials.refresh_expires_at);
    Ok(SupplierConnection {
        vendor_id: vendor_id.clone(),
        api,
        sealed,
        account: credentials.account.clone(),
        access_expires_at: credentials.access_expires_at,
        refresh_expires_at: credentials.refresh_expires_at,
        connected_at: existing.map_or(now, |e| e.connected_at),
        updated_at: now,
        expiry_warned: existing.is_some_and(|e| e.expiry_warned) && !renewed_refresh,
        version: existing.map_or(1, |e| e.version + 1),
    })
}

/// The credentials of a vendor's account at `api`, refreshed first when the access
/// token is about to run out (or was refused: `force`). Of two runs refreshing at once,
/// the one that loses the write reads the winner's.
async fn credentials(app: &App, vendor_id: &VendorId, api: SupplierApi, force: bool) -> Result<Option<SupplierCredentials>, SupplierError> {
    let unavailable = |reason: String| SupplierError::Unavailable { reason, after: None };
    let Some(connection) = app.tables.supplier_connection(vendor_id, api).await.map_err(|e| unavailable(e.to_string()))? else { return Ok(None) };
    let sealer = app.sealer.as_ref().ok_or_else(|| unavailable("no sealing key in this process".into()))?;
    let plain = sealer.open(vendor_id.as_str(), &connection.sealed).await.map_err(|e| match e {
        crate::ports::SealError::Refused(reason) => SupplierError::Unauthorized(format!("the stored credentials do not open ({reason}): connect again")),
        crate::ports::SealError::Unavailable(reason) => unavailable(reason),
    })?;
    let current: SupplierCredentials =
        serde_json::from_slice(&plain).map_err(|_| SupplierError::Unauthorized("the stored credentials do not read: connect again".into()))?;
    let now = app.clock.now();
    let connection = match connection.refresh_expiring(now) {
        true => warn_expiring(app, &connection, now).await.map_err(|e| unavailable(e.to_string()))?,
        false => connection,
    };
    if !force && !connection.needs_refresh(now) {
        return Ok(Some(current));
    }
    let client = app.suppliers.get(&api).ok_or_else(|| unavailable(format!("{} is not configured", api.display_name())))?;
    let fresh = client.refresh(&current, now).await?;
    let kept = keep(app, vendor_id, api, &fresh, Some(&connection), now).await.map_err(|e| unavailable(e.to_string()))?;
    match app.commit(vec![Tables::put_supplier_connection(&kept, Some(connection.version)).map_err(|e| unavailable(e.to_string()))?], &[]).await {
        Ok(()) => Ok(Some(fresh)),
        // Another run refreshed meanwhile: its token stands (ours may be revoked by it).
        Err(crate::ports::StoreError::ConditionFailed) => Box::pin(credentials(app, vendor_id, api, false)).await,
        Err(e) => Err(unavailable(e.to_string())),
    }
}

/// Tells the vendor, once per connection, that its account must be authorized again
/// before its refresh token runs out (`REFRESH_WARNING_DAYS` ahead); the connection as
/// it now is. Another run's change meanwhile is unavailability for now (read again on
/// the next try), never a loop.
async fn warn_expiring(app: &App, connection: &SupplierConnection, now: DateTime<Utc>) -> Result<SupplierConnection, crate::ports::StoreError> {
    let Some(expires_at) = connection.refresh_expires_at else { return Ok(connection.clone()) };
    let warned = SupplierConnection { expiry_warned: true, version: connection.version + 1, ..connection.clone() };
    let payload = crate::domain::events::SupplierAccountExpiring { supplier: connection.api.as_str().into(), expires_at };
    let discriminator = format!("{}-expiring-v{}", connection.api.as_str(), warned.version);
    let event = Envelope::about_vendor(EventType::SupplierAccountExpiring, &connection.vendor_id, &discriminator, now).with(&payload);
    match app.commit(vec![Tables::put_supplier_connection(&warned, Some(connection.version))?], &[event]).await {
        Ok(()) => Ok(warned),
        Err(crate::ports::StoreError::ConditionFailed) => Err(crate::ports::StoreError::Unavailable("the supplier account changed meanwhile".into())),
        Err(e) => Err(e),
    }
}

/// One supplier-sync run: every purchase due by now, shard by shard, oldest first;
/// each is placed, read back, or handed back as it needs. A purchase whose step fails
/// is left on the index for the next run (its own back-off), and the others go on.
/// No step is begun that could outlast `deadline` (a step makes at most
/// `CALLS_PER_STEP` supplier calls, each given up after `SUPPLIER_TIMEOUT_SECONDS`);
/// what is left stays due.
pub async fn sync(app: &App, now: DateTime<Utc>, deadline: Option<std::time::Instant>) -> Result<SyncReport, ServiceError> {
    let mut report = SyncReport { complete: true, ..SyncReport::default() };
    let step_budget = std::time::Duration::from_secs(CALLS_PER_STEP * u64::from(app.config.suppliers.timeout_seconds));
    let out_of_time = || deadline.is_some_and(|d| std::time::Instant::now() + step_budget >= d);
    for shard in 0..crate::store::DUE_SHARDS {
        let mut cursor = None;
        loop {
            let (keys, next) = app.tables.due(crate::store::Due::Purchases, shard, now, cursor, PAGE).await?;
            for key in keys {
                if out_of_time() {
                    report.complete = false;
                    return Ok(report);
                }
                let Some(purchase) = app.tables.purchase_at(&key).await? else { continue };
                let order = purchase.order_id.clone();
                // One purchase's failure never stops the run for every other vendor's:
                // it stays due, and a fault that no retry mends is logged for the operator.
                if let Err(error) = step(app, purchase, now, &mut report).await {
                    match error.is_retryable() {
                        true => tracing::warn!(%order, %error, "a supplier order's step is left for the next run"),
                        false => tracing::error!(%order, %error, "a supplier order's step failed; it is tried again each run until mended"),
                    }
                    report.deferred += 1;
                }
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(report)
}

/// What a due purchase needs now.
async fn step(app: &App, purchase: Purchase, now: DateTime<Utc>, report: &mut SyncReport) -> Result<(), ServiceError> {
    if purchase.next_at.is_none_or(|at| at > now) {
        return Ok(());
    }
    let vo = app.tables.vendor_order_in_round(&purchase.order_id, &purchase.vendor_id, purchase.round).await?;
    let Some(vo) = vo else { return settle(app, &purchase, PurchaseState::Cancelled, now).await };
    match purchase.state {
        PurchaseState::Placing => place(app, purchase, &vo, now, report).await,
        PurchaseState::Unconfirmed => adopt(app, purchase, &vo, now).await,
        state if state.is_placed() => follow(app, purchase, &vo, now, report).await,
        // Nothing to do in any other state: off the index.
        state => settle(app, &purchase, state, now).await,
    }
}

/// A purchase the supplier holds without having named it: once the vendor records the
/// supplier's number (`POST …/supplier-order`), dropflow follows that order as its own
/// (status, tracking, delivery); until then it looks again now and then.
async fn adopt(app: &App, purchase: Purchase, vo: &VendorOrder, now: DateTime<Utc>) -> Result<(), ServiceError> {
    if vo.state == VoState::Cancelled {
        return settle(app, &purchase, PurchaseState::Cancelled, now).await;
    }
    let recorded: Vec<String> =
        vo.supplier_orders.iter().filter(|o| o.line_ids.iter().any(|id| purchase.line_ids.contains(id))).map(|o| o.reference.clone()).collect();
    let poll = Duration::minutes(i64::from(app.config.suppliers.poll_minutes));
    let next = match recorded.is_empty() {
        true => Purchase { next_at: Some(now + poll), ..purchase.next(now) },
        false => Purchase { state: PurchaseState::Placed, references: recorded.clone(), placed_at: Some(now), next_at: Some(now), ..purchase.next(now) },
    };
    let mut writes = vec![Tables::put_purchase(&next, Some(purchase.version))?];
    let to = PurchaseRef { order_id: purchase.order_id.clone(), vendor_id: purchase.vendor_id.clone(), round: purchase.round, api: purchase.api };
    for reference in &recorded {
        writes.push(Tables::put_purchase_ref(purchase.api, reference, &to)?);
    }
    app.commit(writes, &[]).await?;
    Ok(())
}

/// Writes `purchase` in `state` with nothing more to do (off the due index).
async fn settle(app: &App, purchase: &Purchase, state: PurchaseState, now: DateTime<Utc>) -> Result<(), ServiceError> {
    app.commit(vec![settled(purchase, state, now)?], &[]).await?;
    Ok(())
}

/// The write of `purchase` settled in `state`, conditional on its version as read: a
/// sync that took it meanwhile makes the transaction carrying it fail.
pub(super) fn settled(purchase: &Purchase, state: PurchaseState, now: DateTime<Utc>) -> Result<crate::ports::Write, crate::ports::StoreError> {
    let settled = Purchase { state, next_at: None, placing_since: None, ..purchase.next(now) };
    Tables::put_purchase(&settled, Some(purchase.version))
}

/// The supplier order `purchase` asks for: our id, the customer's address, and each of
/// its lines as the supplier names it (the brief's snapshot of the mapping).
fn request(purchase: &Purchase, vo: &VendorOrder, email: Option<String>) -> SupplierOrderRequest {
    let lines = vo
        .lines
        .iter()
        .filter(|l| purchase.line_ids.contains(&l.line.line_id))
        .filter_map(|l| {
            let link = l.supplier.link.as_ref()?;
            Some(SupplierOrderLine {
                product_id: link.product_id.clone(),
                sku: link.sku.clone(),
                quantity: l.line.quantity,
                shipping_method: link.shipping_method.clone(),
                line_id: l.line.line_id.clone(),
            })
        })
        .collect();
    SupplierOrderRequest { out_order_id: purchase.out_order_id(), address: vo.shipping_address.clone(), email, lines }
}

/// Places a purchase: takes the create's lease, asks first for an order a lost answer
/// may have made (where the supplier can be asked), creates it under the same id, and
/// records what the supplier said.
async fn place(app: &App, purchase: Purchase, vo: &VendorOrder, now: DateTime<Utc>, report: &mut SyncReport) -> Result<(), ServiceError> {
    // The vendor ordered by hand meanwhile, or the order moved on: nothing to place.
    let unplaced = vo.unplaced_lines();
    if vo.state != VoState::AwaitingSupplier || !purchase.line_ids.iter().any(|id| unplaced.contains(id)) {
        let state = if vo.state == VoState::Cancelled { PurchaseState::Cancelled } else { PurchaseState::Manual };
        return settle(app, &purchase, state, now).await;
    }
    if !purchase.may_place(now) {
        return Ok(());
    }
    let api = purchase.api;
    let client = client(app, api)?.clone();
    let creds = match credentials(app, &purchase.vendor_id, api, false).await {
        Ok(Some(creds)) => creds,
        Ok(None) => {
            return hand_back(app, &purchase, vo, "manual", format!("no {} account is connected for this vendor", api.display_name()), now, report).await;
        }
        Err(error) => return failed(app, &purchase, vo, error, now, report).await,
    };
    // The lease: no other run sends this create until it runs out.
    let leased =
        Purchase { placing_since: Some(now), next_at: Some(now + Duration::seconds(crate::domain::supplier::PLACING_LEASE_SECONDS)), ..purchase.next(now) };
    app.commit(vec![Tables::put_purchase(&leased, Some(purchase.version))?], &[]).await?;
    let email = app.tables.order(&vo.order_id).await?.and_then(|r| r.order.customer_email.map(|e| e.to_string()));
    let order = request(&leased, vo, email);
    // A create whose answer was lost may have made the order: ask for it first.
    // `None` is certain when no create was sent yet, or the supplier said it holds none.
    let (found, certainly_none) = if purchase.placing_since.is_some() {
        match client.find(&creds, &order.out_order_id).await {
            Ok(found) => (found, true),
            Err(SupplierError::Unsupported) => (None, false),
            Err(error) => return failed(app, &leased, vo, error, now, report).await,
        }
    } else {
        (None, true)
    };
    let outcome = match found {
        Some(placed) => Ok(placed),
        // Priced again only where no earlier try can have made the order: a refusal
        // then would hand the vendor an order the supplier may already hold.
        None => match if certainly_none { still_as_mapped(client.as_ref(), &creds, vo, &leased).await } else { Ok(()) } {
            Ok(()) => client.place(&creds, &order).await,
            Err(error) => Err(error),
        },
    };
    match outcome {
        Ok(placed) => record(app, &leased, vo, placed, now, report).await,
        Err(error) => failed(app, &leased, vo, error, now, report).await,
    }
}

/// Records what the supplier created on the vendor order, as the vendor's own `POST
/// …/supplier-order` does (the same transition, events and clocks), with the purchase
/// and its order numbers, in one transaction; a supplier order waiting to be paid asks
/// the vendor to pay it.
async fn record(
    app: &App,
    purchase: &Purchase,
    vo: &VendorOrder,
    placed: crate::ports::PlacedOrder,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), ServiceError> {
    let joined = placed.references.join(" / ");
    let reference = match SupplierOrderRef::parse(&joined) {
        Ok(reference) => reference,
        // The supplier made the order but named it in a way no reference takes: the
        // vendor finds it and records its number (never placed again, never retried).
        Err(e) => {
            let reason = format!("{} created the order, but its number does not read as one ({})", purchase.api.display_name(), e.reason);
            return hand_back(app, purchase, vo, "confirm", reason, now, report).await;
        }
    };
    let state = if placed.awaiting_payment { PurchaseState::AwaitingPayment } else { PurchaseState::Placed };
    let next = Purchase {
        state,
        references: placed.references.clone(),
        pay_url: placed.pay_url.clone(),
        placing_since: None,
        placed_at: Some(now),
        failures: 0,
        next_at: Some(now + Duration::minutes(i64::from(app.config.suppliers.poll_minutes))),
        ..purchase.next(now)
    };
    let mut writes = vec![Tables::put_purchase(&next, Some(purchase.version))?];
    let to = PurchaseRef { order_id: purchase.order_id.clone(), vendor_id: purchase.vendor_id.clone(), round: purchase.round, api: purchase.api };
    for reference in &placed.references {
        writes.push(Tables::put_purchase_ref(purchase.api, reference, &to)?);
    }
    let mut events = Vec::new();
    if placed.awaiting_payment {
        let hours = app.config.suppliers.pay_timeout_hours;
        let reason = format!("{} waits for payment; unpaid after {hours} hours it comes back to you", purchase.api.display_name());
        events.push(needs_vendor(&next, vo, "pay", reason, false, now));
    }
    let command = Command::PlaceWithSupplier { supplier_order_ref: reference, lines: Some(purchase.line_ids.clone()) };
    apply(app, vo, command, writes, events, now).await?;
    report.placed += 1;
    tracing::info!(order = %vo.order_id, vendor = %vo.vendor_id, supplier = purchase.api.as_str(), "supplier order placed");
    Ok(())
}

/// Applies `command` to `vo` as the supplier automation (`Actor::System`), committing
/// its effects with `writes` and `events`; a command the order no longer allows (the
/// vendor acted meanwhile) commits only `writes` and `events`.
async fn apply(
    app: &App,
    vo: &VendorOrder,
    command: Command,
    mut writes: Vec<Write>,
    mut events: Vec<Envelope>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    match vo.apply(command.clone(), Actor::System, now, &app.config.sla) {
        Ok(transition) => {
            writes.extend(super::vendor::change_writes(app, vo, &transition, &command, now).await?);
            events.extend(transition.events);
        }
        Err(error) => tracing::info!(order = %vo.order_id, %error, "the vendor order moved on; the supplier's news is kept on its purchase"),
    }
    app.commit(writes, &events).await?;
    Ok(())
}

/// The event that asks the vendor of `purchase` to `ask` (pay, confirm, manual).
fn needs_vendor(purchase: &Purchase, vo: &VendorOrder, ask: &str, reason: String, tell_operator: bool, now: DateTime<Utc>) -> Envelope {
    let payload = SupplierNeedsVendor {
        supplier: purchase.api.as_str().into(),
        out_order_id: purchase.out_order_id(),
        references: purchase.references.clone(),
        ask: ask.into(),
        reason,
        pay_url: purchase.pay_url.clone(),
        tell_operator,
    };
    let discriminator = format!("{}-{}-{ask}", purchase.api.as_str(), purchase.version);
    Envelope::new(EventType::SupplierNeedsVendor, &vo.order_id, Some(&vo.vendor_id), &discriminator, now).in_round(vo.round).with(&payload)
}

/// A supplier call that did not do what was asked: later for an outage (backing off;
/// a create whose answer was lost stays `sent` under the same id), a fresh token for a
/// refused one, and the vendor's hands for a refusal, a repeat whose number is unknown
/// or an answer dropflow cannot read.
async fn failed(
    app: &App,
    purchase: &Purchase,
    vo: &VendorOrder,
    error: SupplierError,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), ServiceError> {
    let name = purchase.api.display_name();
    match error {
        SupplierError::Unavailable { reason, after } => {
            let failures = purchase.failures + 1;
            let asked = after.and_then(|a| Duration::from_std(a).ok());
            // A create under way keeps its lease start: the next try asks for the order first.
            let next = Purchase { failures, next_at: Some(now + Purchase::backoff(failures, asked)), ..purchase.next(now) };
            app.commit(vec![Tables::put_purchase(&next, Some(purchase.version))?], &[]).await?;
            tracing::warn!(order = %vo.order_id, supplier = purchase.api.as_str(), %reason, "the supplier is unavailable; trying again later");
            report.deferred += 1;
            Ok(())
        }
        SupplierError::Unauthorized(reason) => match credentials(app, &purchase.vendor_id, purchase.api, true).await {
            // Refreshed: the next run uses the new token at once.
            Ok(Some(_)) => {
                let next = Purchase { next_at: Some(now), ..purchase.next(now) };
                app.commit(vec![Tables::put_purchase(&next, Some(purchase.version))?], &[]).await?;
                report.deferred += 1;
                Ok(())
            }
            Ok(None) | Err(SupplierError::Unauthorized(_) | SupplierError::Refused { .. }) => {
                hand_back(app, purchase, vo, "manual", format!("{name} refused the account's credentials ({reason}): connect the account again"), now, report)
                    .await
            }
            Err(other) => Box::pin(failed(app, purchase, vo, other, now, report)).await,
        },
        SupplierError::Repeated => {
            hand_back(
                app,
                purchase,
                vo,
                "confirm",
                format!("{name} already holds an order under this id, placed by an earlier try whose answer was lost"),
                now,
                report,
            )
            .await
        }
        SupplierError::Unreadable(field) => {
            let reason = format!("{name} answered in a shape dropflow does not read (no {field}); the order may have been placed: check your {name} orders");
            hand_back(app, purchase, vo, "confirm", reason, now, report).await
        }
        SupplierError::Refused { code, reason } => {
            let words = if reason.trim().is_empty() { code } else { format!("{reason} ({code})") };
            hand_back(app, purchase, vo, "manual", format!("{name} refused the order: {words}"), now, report).await
        }
        SupplierError::Unsupported => Err(ServiceError::Internal(format!("{name}: a call it does not have"))),
    }
}

/// Gives a purchase back to its vendor (`ask`: order by hand, or confirm the supplier's
/// number), with one mail saying why; the operator hears too when the supplier-order
/// deadline is near.
async fn hand_back(
    app: &App,
    purchase: &Purchase,
    vo: &VendorOrder,
    ask: &str,
    reason: String,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), ServiceError> {
    let (state, next_at) = match ask {
        // Looked at again: the vendor's recorded number is adopted (`adopt`).
        "confirm" => (PurchaseState::Unconfirmed, Some(now + Duration::minutes(i64::from(app.config.suppliers.poll_minutes)))),
        _ => (PurchaseState::Failed, None),
    };
    let next = Purchase { state, reason: Some(reason.clone()), next_at, placing_since: None, ..purchase.next(now) };
    let near = vo.supplier_deadline().is_some_and(|deadline| deadline - now <= Duration::hours(OPERATOR_NEAR_HOURS));
    let event = needs_vendor(&next, vo, ask, reason, near && vo.state == VoState::AwaitingSupplier, now);
    app.commit(vec![Tables::put_purchase(&next, Some(purchase.version))?], &[event]).await?;
    tracing::warn!(order = %vo.order_id, vendor = %vo.vendor_id, supplier = purchase.api.as_str(), state = state.as_str(), "a supplier order went back to its vendor");
    report.handed_back += 1;
    Ok(())
}

/// Reads a placed purchase back: a payment that came, a parcel that left (shipped as
/// the vendor's `POST …/shipment` ships it), a delivery, a cancellation; an order left
/// unpaid too long goes back to the vendor.
async fn follow(app: &App, purchase: Purchase, vo: &VendorOrder, now: DateTime<Utc>, report: &mut SyncReport) -> Result<(), ServiceError> {
    if matches!(vo.state, VoState::Delivered | VoState::Cancelled) {
        let state = if vo.state == VoState::Delivered { PurchaseState::Delivered } else { PurchaseState::Cancelled };
        return settle(app, &purchase, state, now).await;
    }
    let client = client(app, purchase.api)?.clone();
    let creds = match credentials(app, &purchase.vendor_id, purchase.api, false).await {
        Ok(Some(creds)) => creds,
        Ok(None) => return settle(app, &purchase, PurchaseState::Manual, now).await,
        Err(error) => return failed(app, &purchase, vo, error, now, report).await,
    };
    let Some(reference) = purchase.references.first() else { return settle(app, &purchase, PurchaseState::Manual, now).await };
    let followed = match client.follow(&creds, reference).await {
        Ok(followed) => followed,
        Err(error) => return failed(app, &purchase, vo, error, now, report).await,
    };
    report.followed += 1;
    let status = followed.status;
    if status == Some(SupplierStatus::Cancelled) {
        let reason = format!("{} cancelled its order {reference}", purchase.api.display_name());
        return hand_back(app, &purchase, vo, "manual", reason, now, report).await;
    }
    let waited = now - purchase.placed_at.unwrap_or(purchase.created_at);
    if status == Some(SupplierStatus::AwaitingPayment) && waited >= Duration::hours(i64::from(app.config.suppliers.pay_timeout_hours)) {
        let reason = format!("not paid within {} hours; the supplier closes unpaid orders", app.config.suppliers.pay_timeout_hours);
        return hand_back(app, &purchase, vo, "manual", reason, now, report).await;
    }
    let new_parcels: Vec<&SupplierParcel> =
        followed.parcels.iter().filter(|p| !purchase.parcels.iter().any(|seen| seen.eq_ignore_ascii_case(&p.number))).collect();
    if let Some(parcel) = new_parcels.first() {
        return ship(app, &purchase, vo, parcel, status, now, report).await;
    }
    // Its parcels on the vendor order that have not arrived yet.
    let arriving: Vec<&str> = vo
        .shipments
        .iter()
        .filter(|s| s.delivered_at.is_none() && purchase.parcels.iter().any(|p| p.eq_ignore_ascii_case(&s.tracking.number)))
        .map(|s| s.tracking.number.as_str())
        .collect();
    let all_arrived = !purchase.parcels.is_empty() && arriving.is_empty();
    let state = if all_arrived { PurchaseState::Delivered } else { status.map_or(purchase.state, SupplierStatus::state) };
    let delivering = (status == Some(SupplierStatus::Delivered)).then(|| arriving.first().copied()).flatten();
    // Delivered: one parcel per run (the next run at once), until every one arrived.
    let next_at = match (delivering, all_arrived) {
        (Some(_), _) => Some(now),
        (None, true) => None,
        (None, false) => Some(now + Duration::minutes(i64::from(app.config.suppliers.poll_minutes))),
    };
    let next = Purchase { state, next_at, failures: 0, ..purchase.next(now) };
    let writes = vec![Tables::put_purchase(&next, Some(purchase.version))?];
    if let Some(number) = delivering {
        report.delivered += 1;
        // As a carrier's news of the parcel: it arrives in any state a parcel can be in.
        let checkpoint = Checkpoint {
            tracking_number: number.to_string(),
            tag: "Delivered".into(),
            message: Some(format!("Delivered, as {} reports", purchase.api.display_name())),
            location: None,
            checkpoint_at: None,
            received_at: now,
        };
        let command = Command::CarrierUpdate { tracking_number: number.to_string(), status: CarrierStatus::Delivered, checkpoint };
        return apply(app, vo, command, writes, Vec::new(), now).await;
    }
    app.commit(writes, &[]).await?;
    Ok(())
}

/// Ships the purchase's lines under the supplier's parcel (validated, its carrier
/// mapped), as the vendor's own shipment does; the next run reads on.
async fn ship(
    app: &App,
    purchase: &Purchase,
    vo: &VendorOrder,
    parcel: &SupplierParcel,
    status: Option<SupplierStatus>,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), ServiceError> {
    let tracking = match crate::domain::supplier::tracking_of(parcel, purchase.api) {
        Ok(tracking) => tracking,
        Err(error) => {
            let reason = format!(
                "{} gave parcel number {:?}, which dropflow cannot use ({error}): record the shipment yourself",
                purchase.api.display_name(),
                parcel.number
            );
            return hand_back(app, purchase, vo, "manual", reason, now, report).await;
        }
    };
    let mut parcels = purchase.parcels.clone();
    parcels.push(tracking.number.clone());
    let state = if status == Some(SupplierStatus::Delivered) { PurchaseState::Delivered } else { PurchaseState::Shipped };
    let next = Purchase { state, parcels, failures: 0, next_at: Some(now), ..purchase.next(now) };
    let writes = vec![Tables::put_purchase(&next, Some(purchase.version))?];
    let unshipped = vo.unshipped_placed_lines();
    let lines: Vec<String> = purchase.line_ids.iter().filter(|id| unshipped.contains(id)).cloned().collect();
    let command = Command::Ship { tracking, lines: (!lines.is_empty()).then_some(lines) };
    report.shipped += 1;
    apply(app, vo, command, writes, Vec::new(), now).await
}

/// What a vendor asks of its order's supplier automation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorAsk {
    /// Place what `review` prepared.
    Confirm,
    /// Try again: a refused order under a new id (nothing was bought under the old
    /// one), one waiting out an outage now.
    Retry,
    /// The vendor orders by hand: automation stops for what is not placed.
    Manual,
}

/// Applies a vendor's ask to the purchases of one of its vendor orders (`id` as the
/// vendor knows it) and answers them as they are now. An ask no purchase allows is a
/// conflict that says why.
pub async fn vendor_ask(app: &App, vendor_id: &VendorId, id: &str, ask: VendorAsk) -> Result<Vec<Purchase>, ServiceError> {
    let (order_id, round) =
        crate::domain::vendor_order::parse_public_id(id).ok_or_else(|| ServiceError::NotFound(format!("no order {id:?} for this vendor")))?;
    let vo = app
        .tables
        .vendor_order_in_round(&order_id, vendor_id, round)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no order {id:?} for this vendor")))?;
    let now = app.clock.now();
    let purchases = app.tables.purchases_of(&order_id, vendor_id, round).await?;
    if purchases.is_empty() {
        return Err(ServiceError::Conflict("this order's supplier step is manual: no supplier order is automated".into()));
    }
    let mut writes = Vec::new();
    let mut after = Vec::new();
    for purchase in &purchases {
        let next = match (ask, purchase.state) {
            (VendorAsk::Confirm, PurchaseState::Prepared) => Some(Purchase { state: PurchaseState::Placing, next_at: Some(now), ..purchase.next(now) }),
            (VendorAsk::Retry, PurchaseState::Failed) => Some(Purchase {
                state: PurchaseState::Placing,
                attempt: purchase.attempt + 1,
                reason: None,
                failures: 0,
                placing_since: None,
                next_at: Some(now),
                ..purchase.next(now)
            }),
            (VendorAsk::Retry, PurchaseState::Placing) => Some(Purchase { next_at: Some(now), ..purchase.next(now) }),
            (VendorAsk::Manual, PurchaseState::Prepared | PurchaseState::Placing | PurchaseState::Failed | PurchaseState::Unconfirmed) => {
                Some(Purchase { state: PurchaseState::Manual, next_at: None, placing_since: None, ..purchase.next(now) })
            }
            _ => None,
        };
        if let Some(next) = next {
            writes.push(Tables::put_purchase(&next, Some(purchase.version))?);
            after.push(next);
        } else {
            after.push(purchase.clone());
        }
    }
    if writes.is_empty() {
        let states: Vec<&str> = purchases.iter().map(|p| p.state.as_str()).collect();
        let hint = match ask {
            VendorAsk::Retry if purchases.iter().any(|p| p.state == PurchaseState::Unconfirmed) => {
                " (the supplier may hold it already: record its number with POST …/supplier-order instead)"
            }
            _ => "",
        };
        return Err(ServiceError::Conflict(format!("the supplier order is {}: nothing to {ask:?}{hint}", states.join(", ")).to_lowercase()));
    }
    if vo.state == VoState::Cancelled && ask != VendorAsk::Manual {
        return Err(ServiceError::Conflict("the order is cancelled".into()));
    }
    app.commit(writes, &[]).await.map_err(|e| match e {
        crate::ports::StoreError::ConditionFailed => ServiceError::Conflict("the supplier order changed meanwhile; read the order again".into()),
        other => other.into(),
    })?;
    Ok(after)
}

/// The intake message source of a supplier's push (`supplier:cj`).
pub fn push_source(api: SupplierApi) -> String {
    format!("supplier:{}", api.as_str())
}

/// Why a supplier's push is not taken (the webhook answers 401 or 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushRefusal {
    /// A CJ push without a valid `sign` for the account it names.
    Unsigned,
    /// Not a push of the supplier's documented shape.
    Unreadable(String),
}

/// What a supplier's push names: the supplier's order numbers, and (CJ) the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub ids: Vec<String>,
    pub open_id: Option<String>,
}

/// Reads a push of `api`'s documented shape: CJ's `{messageId, type, openId,
/// params{orderId, orderNumber, …}}`, AliExpress's `{data{orderId, orderStatus}, …}`.
pub fn read_push(api: SupplierApi, body: &[u8]) -> Result<Push, PushRefusal> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| PushRefusal::Unreadable("the push is not JSON".into()))?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string()));
    match api {
        SupplierApi::Cj => {
            let open_id = value.get("openId").and_then(text).ok_or_else(|| PushRefusal::Unreadable("no openId".into()))?;
            let params = value.get("params").cloned().unwrap_or_default();
            let ids = ["orderId", "cjOrderId", "orderNumber"].iter().filter_map(|k| params.get(*k).and_then(text)).collect();
            Ok(Push { ids, open_id: Some(open_id) })
        }
        SupplierApi::Aliexpress => {
            let id = value.pointer("/data/orderId").and_then(text).ok_or_else(|| PushRefusal::Unreadable("no data.orderId".into()))?;
            Ok(Push { ids: vec![id], open_id: None })
        }
    }
}

/// Checks a push as its supplier signs it: CJ's `sign` header is Base64 HMAC-SHA256 of
/// the raw body keyed by the account's `openId` (whether a vendor connected that
/// account is intake's check, which reads the store); AliExpress documents no
/// signature, so its push is only a trigger to read the order back with dropflow's own
/// credentials.
pub fn verify_push(api: SupplierApi, body: &[u8], sign: Option<&str>, push: &Push) -> Result<(), PushRefusal> {
    match (api, &push.open_id) {
        (SupplierApi::Cj, Some(open_id)) if sign.is_some_and(|sign| crate::suppliers::cj::push_signed(open_id, body, sign)) => Ok(()),
        (SupplierApi::Cj, _) => Err(PushRefusal::Unsigned),
        (SupplierApi::Aliexpress, _) => Ok(()),
    }
}

/// What intake does with a supplier's push: the purchase of the order it names is
/// looked at by the next supplier-sync run, which reads the order back (a push is a
/// trigger, never the truth). A push of an account no vendor connected, or of an order
/// dropflow did not place, changes nothing; the same push again changes nothing more.
pub async fn on_push(app: &App, api: SupplierApi, body: &str) -> Result<super::Outcome, ServiceError> {
    // Verified by the webhook function before it was queued.
    let Push { ids, open_id } = read_push(api, body.as_bytes()).map_err(|e| ServiceError::BadRequest(format!("{e:?}")))?;
    if let Some(open_id) = open_id
        && app.tables.hook_owner(&hook_hash(app, &open_id)).await?.is_none()
    {
        return Ok(super::Outcome::Ignored(format!("a {} push for an account no vendor connected", api.display_name())));
    }
    let now = app.clock.now();
    for id in ids {
        let Some(to) = app.tables.purchase_ref(api, &id).await? else { continue };
        let Some(purchase) = app.tables.purchase(&to.order_id, &to.vendor_id, to.round, api).await? else { continue };
        if !purchase.state.is_placed() || purchase.next_at.is_some_and(|at| at <= now) {
            continue;
        }
        let next = Purchase { next_at: Some(now), ..purchase.next(now) };
        match app.commit(vec![Tables::put_purchase(&next, Some(purchase.version))?], &[]).await {
            // Changed meanwhile (a run read it): that run read the news.
            Ok(()) | Err(crate::ports::StoreError::ConditionFailed) => return Ok(super::Outcome::Updated(1)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(super::Outcome::Ignored(format!("a {} push of no order dropflow follows now", api.display_name())))
}
