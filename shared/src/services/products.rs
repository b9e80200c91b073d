//! SKU → vendor and supplier mappings, as the operator (`dropflow product add`) and a
//! vendor (`PUT /vendor/products/{sku}`) make them. A SKU belongs to one vendor: another
//! vendor's claim on it is refused (without naming whose it is), and only the operator
//! moves a SKU, with `--force`. Mapping a SKU routes the lines that waited for it; a
//! vendor's claim on a SKU that orders wait for waits for the operator's approval first.

use super::vendor::IdempotencyKey;
use super::{App, ServiceError};
use crate::domain::events::{Envelope, EventType};
use crate::domain::ids::{Sku, VendorId};
use crate::domain::order::{ProductMapping, ProductSpec};
use crate::ports::StoreError;
use crate::store::Tables;

fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unprocessable(e.to_string())
}

/// Who maps a SKU: the operator (whose mapping is an approval, and who may move
/// another vendor's SKU with `force`), or the vendor itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappedBy {
    Operator { force: bool },
    Vendor,
}

/// Maps a SKU to `vendor_id` (creating or replacing the vendor's own mapping), then
/// routes the lines of every order that waited for it; returns the mapping and how many
/// lines found their vendor. Another vendor's SKU is a conflict (that does not name the
/// vendor) unless the operator forces it. A vendor's claim on a SKU that orders wait
/// for routes nothing until the operator approves it (`approve`): the operator is told,
/// in the same commit, and those orders' addresses stay with the marketplace meanwhile.
pub async fn map(
    app: &App,
    vendor_id: &VendorId,
    spec: ProductSpec,
    by: MappedBy,
    key: Option<&IdempotencyKey>,
) -> Result<(ProductMapping, usize), ServiceError> {
    let now = app.clock.now();
    let mut replaces = None;
    if let Some(key) = key {
        match key.seen(app, vendor_id, now).await? {
            // The same request again: the mapping as it stands.
            (Some(record), _) => {
                super::vendor::same_request(&record, &key.fingerprint)?;
                let mapping = own(app, vendor_id, &record.order).await?;
                // The first request may have died between its commit and the routing.
                let rerouted = if mapping.awaiting_approval { 0 } else { super::reroute::route_waiting(app, &mapping.sku).await? };
                return Ok((mapping, rerouted));
            }
            (None, expired) => replaces = expired,
        }
    }
    let mut mapping = spec.parse(vendor_id).map_err(invalid)?;
    let existing = app.tables.product_versioned(&mapping.sku).await?;
    let own = existing.as_ref().filter(|(current, _)| current.vendor_id == *vendor_id);
    if existing.is_some() && own.is_none() && by != (MappedBy::Operator { force: true }) {
        return Err(ServiceError::Conflict(format!("SKU {} is mapped by another vendor; the operator can move it", mapping.sku)));
    }
    // A new or changed supplier link is checked with the supplier before it is kept (after the
    // conflict check: a SKU the vendor may not map costs no supplier call).
    let unchanged = existing.as_ref().is_some_and(|(current, _)| current.link == mapping.link && current.supplier_cost == mapping.supplier_cost);
    if let Some(link) = mapping.link.as_ref().filter(|_| !unchanged) {
        mapping.link = Some(super::supplier::check_link(app, vendor_id, link, mapping.supplier_cost).await?);
    }
    mapping.awaiting_approval = match (by, own) {
        (MappedBy::Operator { .. }, _) => false,
        (MappedBy::Vendor, Some((current, _))) => current.awaiting_approval,
        (MappedBy::Vendor, None) => !app.tables.waiting_orders(&mapping.sku).await?.is_empty(),
    };
    let version = existing.as_ref().map(|(_, version)| *version);
    let mut events = Vec::new();
    if mapping.awaiting_approval && own.is_none() {
        let claim = format!("claim-{}-v{}", crate::domain::ids::key_part(mapping.sku.as_str()), version.map_or(1, |v| v + 1));
        events.push(
            Envelope::about_vendor(EventType::SkuClaimed, vendor_id, &claim, now).with(&crate::domain::events::SkuClaimed { sku: mapping.sku.to_string() }),
        );
    }
    let mut writes = vec![Tables::product_write(&mapping, version)?];
    if let Some(key) = key {
        writes.push(key.remember(vendor_id, mapping.sku.to_string(), now, replaces)?);
    }
    app.commit(writes, &events).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict(format!(
            "SKU {} changed meanwhile, or the Idempotency-Key was used at once by another request; read it and try again",
            mapping.sku
        )),
        other => other.into(),
    })?;
    let rerouted = if mapping.awaiting_approval { 0 } else { super::reroute::route_waiting(app, &mapping.sku).await? };
    Ok((mapping, rerouted))
}

/// The operator approves a vendor's claim on a SKU (`dropflow product approve`): the
/// orders that waited for it are routed to that vendor. Returns the mapping and how
/// many lines found their vendor.
pub async fn approve(app: &App, sku: &str) -> Result<(ProductMapping, usize), ServiceError> {
    let (mut mapping, version) = match claim(app, sku).await {
        // Approved already: an approval that died before routing is finished here.
        Err(ServiceError::Conflict(reason)) => {
            let sku = Sku::parse(sku).map_err(invalid)?;
            return match super::reroute::route_waiting(app, &sku).await? {
                0 => Err(ServiceError::Conflict(reason)),
                routed => Ok((app.tables.product(&sku).await?.ok_or_else(|| ServiceError::NotFound(format!("no claim on SKU {sku}")))?, routed)),
            };
        }
        other => other?,
    };
    mapping.awaiting_approval = false;
    app.tables.put_product(&mapping, Some(version)).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict(format!("SKU {} changed meanwhile; try again", mapping.sku)),
        other => other.into(),
    })?;
    let rerouted = super::reroute::route_waiting(app, &mapping.sku).await?;
    Ok((mapping, rerouted))
}

/// The operator refuses a vendor's claim on a SKU (`dropflow product refuse`): the
/// claim is taken away and the orders keep waiting for the SKU to be mapped.
pub async fn refuse(app: &App, sku: &str) -> Result<ProductMapping, ServiceError> {
    let (mapping, version) = claim(app, sku).await?;
    // Only the claim read: an approval that committed meanwhile stands.
    app.commit(vec![Tables::product_delete_at(&mapping.sku, version)], &[]).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict(format!("SKU {} changed meanwhile (approved?): look again", mapping.sku)),
        other => other.into(),
    })?;
    Ok(mapping)
}

/// The operator takes a SKU's mapping away from its vendor (`dropflow product remove`):
/// lines handed out already stay with their vendor orders; new lines of the SKU wait,
/// as for any SKU nobody sells, until it is mapped again. Only the mapping read is
/// removed: one changed meanwhile stands, and the operator looks again.
pub async fn remove(app: &App, sku: &str) -> Result<ProductMapping, ServiceError> {
    let sku = Sku::parse(sku).map_err(invalid)?;
    let (mapping, version) = app.tables.product_versioned(&sku).await?.ok_or_else(|| ServiceError::NotFound(format!("no mapping of SKU {sku}")))?;
    app.commit(vec![Tables::product_delete_at(&mapping.sku, version)], &[]).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict(format!("SKU {} changed meanwhile: look again", mapping.sku)),
        other => other.into(),
    })?;
    Ok(mapping)
}

/// The claim awaiting approval on `sku`, with its version.
async fn claim(app: &App, sku: &str) -> Result<(ProductMapping, u64), ServiceError> {
    let sku = Sku::parse(sku).map_err(invalid)?;
    match app.tables.product_versioned(&sku).await? {
        Some((mapping, version)) if mapping.awaiting_approval => Ok((mapping, version)),
        Some(_) => Err(ServiceError::Conflict(format!("SKU {sku} is mapped and approved already"))),
        None => Err(ServiceError::NotFound(format!("no claim on SKU {sku}"))),
    }
}

/// One page of the vendor's mappings, by SKU.
pub async fn list(app: &App, vendor_id: &VendorId, cursor: Option<String>, limit: usize) -> Result<(Vec<ProductMapping>, Option<String>), ServiceError> {
    app.tables.vendor_products(vendor_id, cursor, limit).await.map_err(super::vendor::listing_error)
}

/// The vendor's own mapping of `sku`; another vendor's, or none, is not found.
pub async fn own(app: &App, vendor_id: &VendorId, sku: &str) -> Result<ProductMapping, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("no product {sku:?} for this vendor"));
    let sku = Sku::parse(sku).map_err(|_| not_found())?;
    match app.tables.product(&sku).await? {
        Some(mapping) if mapping.vendor_id == *vendor_id => Ok(mapping),
        _ => Err(not_found()),
    }
}

/// The vendor stops selling a SKU. With an `Idempotency-Key`, a repeat of the same
/// request (a client retrying after a lost answer) is answered as the first was, not
/// with "not one of your SKUs": `None` then, the mapping removed by the first.
pub async fn unmap(app: &App, vendor_id: &VendorId, sku: &str, key: Option<&IdempotencyKey>) -> Result<Option<ProductMapping>, ServiceError> {
    let now = app.clock.now();
    let mut replaces = None;
    if let Some(key) = key {
        match key.seen(app, vendor_id, now).await? {
            (Some(record), _) => return super::vendor::same_request(&record, &key.fingerprint).map(|()| None),
            (None, expired) => replaces = expired,
        }
    }
    let mapping = own(app, vendor_id, sku).await?;
    let mut writes = vec![Tables::product_delete(&mapping.sku)];
    if let Some(key) = key {
        writes.push(key.remember(vendor_id, mapping.sku.to_string(), now, replaces)?);
    }
    app.commit(writes, &[]).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict("the Idempotency-Key was used at once by another request; try again".into()),
        other => other.into(),
    })?;
    Ok(Some(mapping))
}
