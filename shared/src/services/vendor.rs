//! What a vendor does through the REST endpoint: authenticate with its key, read its
//! orders, and move them along (supplier order, shipment, delivery, cancellation).
//! Every change is conditional on the version read, so two writers never both win.

use super::{App, ServiceError};
use crate::domain::ids::VendorId;
use crate::domain::tracking::{Carrier, TrackingNumber};
use crate::domain::vendor_order::{Actor, Command, HistoryEntry, TransitionError, VendorOrder, VoState, parse_public_id};
use crate::ports::StoreError;
use crate::store::Tables;
use sha2::{Digest, Sha256};

/// The stored form of an API key: the hex SHA-256 of the key.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

/// The vendor a bearer key belongs to; unknown and revoked keys are refused alike.
pub async fn authenticate(app: &App, key: Option<&str>) -> Result<VendorId, ServiceError> {
    let key = key.filter(|k| !k.trim().is_empty()).ok_or(ServiceError::Unauthorized)?;
    match app.tables.api_key(&key_hash(key)).await? {
        Some(record) if !record.revoked => Ok(record.vendor_id),
        _ => Err(ServiceError::Unauthorized),
    }
}

/// One page of the vendor's orders, optionally in one state.
pub async fn list(app: &App, vendor: &VendorId, state: Option<&str>, cursor: Option<String>, limit: usize) -> Result<(Vec<VendorOrder>, Option<String>), ServiceError> {
    let state = match state.filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(VoState::parse(text).ok_or_else(|| ServiceError::BadRequest(format!("unknown state {text:?}")))?),
    };
    app.tables.vendor_orders(vendor, state, cursor, limit).await.map_err(|e| match e {
        StoreError::BadCursor => ServiceError::BadRequest("the cursor is not one this API gave out".into()),
        other => other.into(),
    })
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no order {id:?} for this vendor"))
}

async fn load(app: &App, vendor: &VendorId, id: &str) -> Result<VendorOrder, ServiceError> {
    let (order_id, round) = parse_public_id(id).ok_or_else(|| not_found(id))?;
    app.tables.vendor_order_in_round(&order_id, vendor, round).await?.ok_or_else(|| not_found(id))
}

/// One of the vendor's orders with its history; another vendor's order is not found.
pub async fn get(app: &App, vendor: &VendorId, id: &str) -> Result<(VendorOrder, Vec<HistoryEntry>), ServiceError> {
    let vendor_order = load(app, vendor, id).await?;
    let history = app.tables.history(&vendor_order).await?;
    Ok((vendor_order, history))
}

/// A change a vendor asks for, as it arrives.
#[derive(Debug, Clone)]
pub enum Request {
    PlaceWithSupplier { supplier_order_ref: String },
    Ship { carrier: Option<String>, tracking_number: String },
    MarkDelivered,
    Cancel { reason: String },
}

fn command(request: Request) -> Result<Command, ServiceError> {
    Ok(match request {
        Request::PlaceWithSupplier { supplier_order_ref } => Command::PlaceWithSupplier { supplier_order_ref },
        Request::Ship { carrier, tracking_number } => {
            let carrier = carrier.filter(|c| !c.trim().is_empty()).map(|c| Carrier::from_name(&c));
            let tracking = TrackingNumber::parse(&tracking_number, carrier.as_ref()).map_err(|e| ServiceError::Unprocessable(e.to_string()))?;
            Command::Ship { tracking }
        }
        Request::MarkDelivered => Command::MarkDelivered,
        Request::Cancel { reason } => Command::Cancel { reason },
    })
}

/// Applies a vendor's request to one of its orders and commits it with the events it
/// causes.
pub async fn act(app: &App, vendor: &VendorId, id: &str, request: Request) -> Result<VendorOrder, ServiceError> {
    let command = command(request)?;
    let current = load(app, vendor, id).await?;
    let transition = current.apply(command, Actor::Vendor(vendor.clone()), app.clock.now(), &app.config.sla).map_err(|e| match e {
        TransitionError::Illegal { .. } => ServiceError::Conflict(e.to_string()),
        TransitionError::Invalid(reason) => ServiceError::Unprocessable(reason),
    })?;
    let writes = vec![
        Tables::put_vendor_order(&transition.vendor_order, Some(current.version))?,
        Tables::put_history(&transition.vendor_order, &transition.history)?,
    ];
    match app.commit(writes, &transition.events).await {
        Ok(()) => Ok(transition.vendor_order),
        // Either another writer won, or this very write landed and only its answer was
        // lost (a timeout, then a retry that met its own write): the latter is success.
        Err(StoreError::ConditionFailed) => match app.tables.vendor_order_in_round(&current.order_id, vendor, current.round).await? {
            Some(stored) if stored == transition.vendor_order => Ok(stored),
            _ => Err(ServiceError::Conflict("the order changed meanwhile; read it again and retry".into())),
        },
        Err(other) => Err(other.into()),
    }
}
