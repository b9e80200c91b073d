//! The operator's commands: onboard vendors, issue their API keys, map SKUs to vendors
//! and suppliers.

use super::{App, ServiceError};
use crate::domain::ids::{Email, VendorId};
use crate::domain::money::{CommissionBps, Currency, Money};
use crate::domain::order::ProductMapping;
use crate::ports::StoreError;
use crate::store::{ApiKeyRecord, VendorProfile};

fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(e.to_string())
}

/// Onboards a vendor, paid to `payee` when given (see `payee`); its id must be new.
pub async fn add_vendor(
    app: &App,
    vendor_id: &str,
    name: &str,
    email: &str,
    commission_bps: Option<CommissionBps>,
    payee: Option<&str>,
) -> Result<VendorProfile, ServiceError> {
    let commission_bps = commission_bps.unwrap_or(app.config.commission_bps);
    if name.trim().is_empty() {
        return Err(invalid("the vendor needs a name"));
    }
    let profile = VendorProfile {
        vendor_id: VendorId::parse(vendor_id).map_err(invalid)?,
        name: name.trim().to_string(),
        email: Email::parse(email).map_err(invalid)?,
        commission_bps,
        created_at: app.clock.now(),
        payee: payee.map(payee_of).transpose()?.flatten(),
        suspended: false,
        held: false,
        version: 1,
    };
    app.tables.put_vendor(&profile, None).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict(format!("vendor {vendor_id} already exists")),
        other => other.into(),
    })?;
    Ok(profile)
}

/// Who a vendor's payouts go to (an IBAN, a PayPal address), as the payout export
/// shows it: one line of at most 200 characters; blank is none.
fn payee_of(text: &str) -> Result<Option<String>, ServiceError> {
    let payee = text.trim();
    if payee.chars().count() > 200 || payee.chars().any(char::is_control) {
        return Err(invalid("the payee must be at most 200 characters on one line"));
    }
    Ok(Some(payee.to_string()).filter(|p| !p.is_empty()))
}

async fn existing_vendor(app: &App, vendor_id: &str) -> Result<VendorId, ServiceError> {
    let vendor = VendorId::parse(vendor_id).map_err(invalid)?;
    match app.tables.vendor(&vendor).await? {
        Some(_) => Ok(vendor),
        None => Err(ServiceError::NotFound(format!("no vendor {vendor_id}; add it first with `dropflow vendor add`"))),
    }
}

/// Creates an API key for a vendor and returns it; only its hash is stored, so this is
/// the one time it can be seen.
pub async fn create_key(app: &App, vendor_id: &str) -> Result<String, ServiceError> {
    let vendor_id = existing_vendor(app, vendor_id).await?;
    let key = new_key(VENDOR_KEY_PREFIX)?;
    let record =
        ApiKeyRecord { vendor_id, prefix: key[..KEY_PREFIX_CHARS].to_string(), created_at: app.clock.now(), revoked: false, last_used: None, version: 1 };
    app.tables.put_api_key(&super::vendor::key_hash(&key), &record, None).await?;
    Ok(key)
}

/// How much of a key is kept printable, to tell keys apart in `key list` and revoke one.
const KEY_PREFIX_CHARS: usize = 12;

/// How a vendor's key starts, and an operator's: a key pasted in the wrong place is
/// told apart (403, not 401) and recognised in a leak scan.
pub const VENDOR_KEY_PREFIX: &str = "dfk_";
pub const OPERATOR_KEY_PREFIX: &str = "dfo_";

/// A new random key: `prefix` and 48 hex digits (192 bits).
fn new_key(prefix: &str) -> Result<String, ServiceError> {
    let mut secret = [0u8; 24];
    getrandom::fill(&mut secret).map_err(|e| ServiceError::Internal(format!("no randomness for a key: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(secret)))
}

/// Creates an operator key named `name` (who holds it) and returns it; only its hash is
/// stored, so this is the one time it can be seen.
pub async fn create_operator_key(app: &App, name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(invalid("the key needs a name of 1-64 characters on one line (who holds it)"));
    }
    let key = new_key(OPERATOR_KEY_PREFIX)?;
    let record = crate::store::OperatorKey {
        name: name.to_string(),
        prefix: key[..KEY_PREFIX_CHARS].to_string(),
        created_at: app.clock.now(),
        revoked: false,
        last_used: None,
        version: 1,
    };
    app.tables.put_operator_key(&super::vendor::key_hash(&key), &record, None).await?;
    Ok(key)
}

/// Every operator key, oldest first.
pub async fn list_operator_keys(app: &App) -> Result<Vec<crate::store::OperatorKey>, ServiceError> {
    Ok(app.tables.operator_keys().await?.into_iter().map(|(_, key)| key).collect())
}

/// Revokes the operator key printed with `prefix`; the next request with it gets 401.
pub async fn revoke_operator_key(app: &App, prefix: &str) -> Result<crate::store::OperatorKey, ServiceError> {
    let mut found: Vec<_> = app.tables.operator_keys().await?.into_iter().filter(|(_, key)| key.prefix == prefix.trim()).collect();
    let (hash, record) = match found.len() {
        1 => found.remove(0),
        0 => return Err(ServiceError::NotFound(format!("no operator key starts {prefix:?}; `dropflow operator key list` shows them"))),
        n => return Err(ServiceError::Conflict(format!("{n} operator keys start {prefix:?}"))),
    };
    if record.revoked {
        return Ok(record);
    }
    let revoked = crate::store::OperatorKey { revoked: true, version: record.version + 1, ..record.clone() };
    app.tables.put_operator_key(&hash, &revoked, Some(record.version)).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict("the key changed meanwhile; run the command again".into()),
        other => other.into(),
    })?;
    Ok(revoked)
}

/// The operator a bearer key belongs to (its key record); unknown and revoked keys are
/// 401, a vendor's key is 403 (it is known, and not allowed here). The key's last day of
/// use is written when the day changes.
pub async fn authenticate_operator(app: &App, key: Option<&str>) -> Result<crate::store::OperatorKey, ServiceError> {
    let key = key.map(str::trim).filter(|k| !k.is_empty()).ok_or(ServiceError::Unauthorized)?;
    let hash = super::vendor::key_hash(key);
    let record = match app.tables.operator_key(&hash).await? {
        Some(record) if !record.revoked => record,
        _ if key.starts_with(VENDOR_KEY_PREFIX) && app.tables.api_key(&hash).await?.is_some_and(|k| !k.revoked) => {
            return Err(ServiceError::Forbidden("a vendor's key: the operator's routes take an operator key".into()));
        }
        _ => return Err(ServiceError::Unauthorized),
    };
    let today = app.clock.now().date_naive();
    if record.last_used != Some(today) {
        let used = crate::store::OperatorKey { last_used: Some(today), version: record.version + 1, ..record.clone() };
        match app.tables.put_operator_key(&hash, &used, Some(record.version)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(e) => tracing::warn!(error = %e, "could not record an operator key's last use"),
        }
    }
    Ok(record)
}

/// A vendor's keys, oldest first.
pub async fn list_keys(app: &App, vendor_id: &str) -> Result<Vec<ApiKeyRecord>, ServiceError> {
    let vendor_id = existing_vendor(app, vendor_id).await?;
    Ok(app.tables.vendor_keys(&vendor_id).await?.into_iter().map(|(_, record)| record).collect())
}

/// Revokes the key printed with `prefix`; the next request with it gets 401.
pub async fn revoke_key(app: &App, prefix: &str) -> Result<ApiKeyRecord, ServiceError> {
    let mut found = app.tables.keys_with_prefix(prefix.trim()).await?;
    let (hash, record) = match found.len() {
        1 => found.remove(0),
        0 => return Err(ServiceError::NotFound(format!("no key starts {prefix:?}; `dropflow key list <VENDOR_ID>` shows them"))),
        _ => return Err(ServiceError::Conflict(format!("{} keys start {prefix:?}; revoke them by their vendor", found.len()))),
    };
    if record.revoked {
        return Ok(record);
    }
    let revoked = ApiKeyRecord { revoked: true, version: record.version + 1, ..record.clone() };
    app.tables.put_api_key(&hash, &revoked, Some(record.version)).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict("the key changed meanwhile; run the command again".into()),
        other => other.into(),
    })?;
    Ok(revoked)
}

/// Every onboarded vendor, by id.
pub async fn list_vendors(app: &App) -> Result<Vec<VendorProfile>, ServiceError> {
    let mut vendors = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = app.tables.vendors(cursor, 100).await?;
        vendors.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(vendors),
        }
    }
}

/// What `dropflow vendor update` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct VendorChanges<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub commission_bps: Option<CommissionBps>,
    pub payee: Option<&'a str>,
    pub suspended: Option<bool>,
    /// Held for review (`console::set_vendor_state`).
    pub held: Option<bool>,
}

/// Changes a vendor's profile. Resuming a vendor routes the lines that waited for its
/// SKUs meanwhile; returns the profile and how many lines that routed.
pub async fn update_vendor(app: &App, vendor_id: &str, changes: VendorChanges<'_>) -> Result<(VendorProfile, usize), ServiceError> {
    let id = VendorId::parse(vendor_id).map_err(invalid)?;
    let current = app.tables.vendor(&id).await?.ok_or_else(|| ServiceError::NotFound(format!("no vendor {vendor_id}")))?;
    let mut next = VendorProfile { version: current.version + 1, ..current.clone() };
    if let Some(name) = changes.name {
        next.name = Some(name.trim()).filter(|n| !n.is_empty()).ok_or_else(|| invalid("the vendor needs a name"))?.to_string();
    }
    if let Some(email) = changes.email {
        next.email = Email::parse(email).map_err(invalid)?;
    }
    if let Some(bps) = changes.commission_bps {
        next.commission_bps = bps;
    }
    if let Some(payee) = changes.payee {
        next.payee = payee_of(payee)?;
    }
    if let Some(suspended) = changes.suspended {
        next.suspended = suspended;
    }
    if let Some(held) = changes.held {
        next.held = held;
    }
    app.tables.put_vendor(&next, Some(current.version)).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict("the vendor changed meanwhile; run the command again".into()),
        other => other.into(),
    })?;
    let mut routed = 0;
    // On every resume or release, not only the one that changed the flag: one that died
    // after its write is finished by running it again.
    if (changes.suspended == Some(false) || changes.held == Some(false)) && !next.suspended && !next.held {
        for mapping in all_products(app, Some(&id)).await? {
            routed += super::reroute::route_waiting(app, &mapping.sku).await?;
        }
    }
    Ok((next, routed))
}

/// Every SKU mapping of one vendor, or of every vendor.
pub async fn all_products(app: &App, vendor: Option<&VendorId>) -> Result<Vec<ProductMapping>, ServiceError> {
    let vendors = match vendor {
        Some(id) => vec![id.clone()],
        None => list_vendors(app).await?.into_iter().map(|v| v.vendor_id).collect(),
    };
    let mut products = Vec::new();
    for vendor_id in vendors {
        let mut cursor = None;
        loop {
            let (page, next) = super::products::list(app, &vendor_id, cursor, 100).await?;
            products.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(products)
}

/// What `dropflow product add` says about a SKU.
pub struct ProductInput<'a> {
    pub sku: &'a str,
    pub vendor_id: &'a str,
    pub supplier_name: &'a str,
    pub product_url: &'a str,
    pub cost: &'a str,
    pub currency: &'a str,
    pub variant: Option<&'a str>,
    /// How its supplier step runs (`--mode`, `--supplier-api` …).
    pub automation: crate::domain::order::LinkSpec,
    /// Move the SKU from the vendor that maps it now.
    pub force: bool,
}

/// Maps a SKU to its vendor and supplier (`services::products::map`): the operator may
/// move another vendor's SKU with `force`.
pub async fn add_product(app: &App, input: ProductInput<'_>) -> Result<(ProductMapping, usize), ServiceError> {
    let vendor_id = existing_vendor(app, input.vendor_id).await?;
    let currency = Currency::parse(input.currency).map_err(invalid)?;
    let supplier_cost = Money::parse_decimal(input.cost, currency).map_err(invalid)?;
    let spec = crate::domain::order::ProductSpec {
        sku: input.sku.to_string(),
        supplier_name: input.supplier_name.to_string(),
        product_url: input.product_url.to_string(),
        supplier_cost,
        supplier_variant: input.variant.map(str::to_string),
        automation: input.automation,
    };
    super::products::map(app, &vendor_id, spec, super::products::MappedBy::Operator { force: input.force }, None).await
}

/// Everything the operator needs to answer for one order: the order, each vendor order
/// with its history, and the mail its events sent (as long as the event items are kept,
/// 7 days).
#[derive(Debug)]
pub struct OrderReport {
    pub record: crate::store::OrderRecord,
    pub vendor_orders: Vec<(crate::domain::vendor_order::VendorOrder, Vec<crate::domain::vendor_order::HistoryEntry>)>,
    /// Each mail sent, oldest first.
    pub mail: Vec<SentMail>,
    /// (parcel number, where its write-back to the storefront stands: `written:{ids}`,
    /// `refused:{why}` or `pending`), for a shop that is written back to (as long as
    /// the events are kept).
    pub write_backs: Vec<(String, String)>,
}

/// One mail an order's event sent: what the console lists, and resends by its event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SentMail {
    pub at: chrono::DateTime<chrono::Utc>,
    pub event_type: String,
    pub event_id: String,
    pub to: String,
}

/// The orders `reference` names: an order id (`o_…`), or the number customers quote
/// ("#1001" or "1001"), which several shops may share.
pub async fn find_orders(app: &App, reference: &str) -> Result<Vec<crate::domain::ids::OrderId>, ServiceError> {
    let reference = reference.trim();
    if let Ok(id) = crate::domain::ids::OrderId::parse(reference) {
        return Ok(vec![id]);
    }
    let mut found = app.tables.orders_numbered(reference).await?;
    if found.is_empty() && !reference.starts_with('#') {
        found = app.tables.orders_numbered(&format!("#{reference}")).await?;
    }
    Ok(found)
}

/// The report of one order.
pub async fn show_order(app: &App, order_id: &crate::domain::ids::OrderId) -> Result<OrderReport, ServiceError> {
    order_report(app, order_id, true).await
}

/// The order as an act on it answers: `show_order` without its mail and write-backs,
/// whose reads grow with its events times its recipients. An act's answer must be
/// cheap: read after the commit, a failing read answers 503 and the client sends the
/// act again (a replay, by its Idempotency-Key), so every read is one more chance to
/// fail. `GET /operator/orders/{id}` lists them.
pub async fn show_order_acted_on(app: &App, order_id: &crate::domain::ids::OrderId) -> Result<OrderReport, ServiceError> {
    order_report(app, order_id, false).await
}

async fn order_report(app: &App, order_id: &crate::domain::ids::OrderId, with_mail: bool) -> Result<OrderReport, ServiceError> {
    let record = app.tables.order(order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    let mut vendor_orders = Vec::new();
    let mut recipients = vec![app.config.operator_email.to_string()];
    recipients.extend(record.order.customer_email.iter().map(|e| e.to_string()));
    for vo in app.tables.vendor_orders_of(order_id).await? {
        if let Some(vendor) = app.tables.vendor(&vo.vendor_id).await? {
            recipients.push(vendor.email.to_string());
        }
        let history = app.tables.history(&vo).await?;
        vendor_orders.push((vo, history));
    }
    recipients.sort();
    recipients.dedup();
    let mut mail = Vec::new();
    let mut write_backs = Vec::new();
    let events = if with_mail { app.tables.events(order_id).await? } else { Vec::new() };
    for event in events {
        if let Some(number) = super::storefront_sync::written_parcel(app, &record, &event) {
            let state = app.tables.sent_message_id(&event.event_id, &super::storefront_sync::target(&number)).await?;
            write_backs.push((number, state.unwrap_or_else(|| "pending".into())));
        }
        for to in &recipients {
            if app.tables.sent_message_id(&event.event_id, to).await?.is_some() {
                mail.push(SentMail {
                    at: event.occurred_at,
                    event_type: event.event_type.as_str().to_string(),
                    event_id: event.event_id.clone(),
                    to: to.clone(),
                });
            }
        }
    }
    mail.sort();
    Ok(OrderReport { record, vendor_orders, mail, write_backs })
}

/// The newest orders, all or in one listing (one Query of the operator's order index).
pub async fn list_orders(app: &App, listing: Option<&str>, limit: usize) -> Result<Vec<crate::store::OrderRecord>, ServiceError> {
    if let Some(listing) = listing.filter(|l| !crate::store::ORDER_LISTINGS.contains(l)) {
        return Err(ServiceError::Unprocessable(format!("{listing:?} is not one of {}", crate::store::ORDER_LISTINGS.join(", "))));
    }
    Ok(app.tables.orders(listing, None, limit).await?.0)
}
