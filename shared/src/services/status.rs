//! The customer's order-status page: which order a link opens, and what it shows
//! (`domain::order_status`). A link opens nothing when it is not one of dropflow's,
//! when the order's personal data was erased, or `STATUS_LINK_DAYS` after everything
//! it will get arrived.

use super::{App, ServiceError};
use crate::domain::ids::OrderId;
use crate::domain::order_status::{OrderStatus, link_expires_at, order_status as status_of};

/// What `token`'s page shows now, or `None` when it opens nothing (all such links look
/// the same to whoever holds one).
pub async fn order_status(app: &App, token: &str) -> Result<Option<OrderStatus>, ServiceError> {
    let Some(order_id) = app.config.status_keys.as_ref().and_then(|keys| keys.order_of(token)) else { return Ok(None) };
    let Some(record) = app.tables.order(&order_id).await? else { return Ok(None) };
    if record.redaction.is_some() {
        return Ok(None);
    }
    let now = app.clock.now();
    let vendor_orders = app.tables.vendor_orders_of(&order_id).await?;
    if link_expires_at(&vendor_orders, &record, app.config.status_link_days).is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let events = app.tables.events(&order_id).await?;
    let mut sellers = std::collections::BTreeMap::new();
    if app.config.status_shows_sellers {
        for vo in &vendor_orders {
            if !sellers.contains_key(vo.vendor_id.as_str())
                && let Some(vendor) = app.tables.vendor(&vo.vendor_id).await?
            {
                sellers.insert(vo.vendor_id.to_string(), vendor.name);
            }
        }
    }
    Ok(Some(status_of(&app.config.store_name, &record, &vendor_orders, &events, &sellers, now)))
}

/// The link to `order_id`'s page, when the public address and a key are configured.
pub fn status_url(config: &crate::config::Config, order_id: &OrderId) -> Option<String> {
    let (base, keys) = (config.public_base_url.as_ref()?, config.status_keys.as_ref()?);
    Some(format!("{base}/status/{}", keys.token(order_id)))
}
