//! SKU → vendor and supplier mappings, as the operator (`dropflow product add`) and a
//! vendor (`PUT /vendor/products/{sku}`) make them. A SKU belongs to one vendor: another
//! vendor's claim on it is refused (without naming whose it is), and only the operator
//! moves a SKU, with `--force`. Mapping a SKU routes the lines that waited for it.

use super::{App, ServiceError};
use crate::domain::ids::{Sku, VendorId};
use crate::domain::money::Money;
use crate::domain::order::ProductMapping;
use crate::ports::StoreError;

/// The longest product URL taken.
const MAX_URL_BYTES: usize = 2048;

/// What a mapping says, before it is checked.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    pub sku: String,
    pub supplier_name: String,
    pub product_url: String,
    pub supplier_cost: Money,
    pub supplier_variant: Option<String>,
}

fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unprocessable(e.to_string())
}

/// Checks `spec` for `vendor_id`: an https product URL, a supplier name, a cost that is
/// not negative.
fn mapping_of(vendor_id: &VendorId, spec: ProductSpec) -> Result<ProductMapping, ServiceError> {
    let url = spec.product_url.trim();
    let host = url.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    if host.is_empty() || url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == '"') {
        return Err(invalid(format!("product_url must be an https:// address of at most {MAX_URL_BYTES} bytes")));
    }
    let supplier_name = spec.supplier_name.trim();
    if supplier_name.is_empty() || supplier_name.chars().count() > 200 || supplier_name.chars().any(char::is_control) {
        return Err(invalid("supplier_name must be 1-200 characters"));
    }
    if spec.supplier_cost.minor < 0 {
        return Err(invalid("supplier_cost cannot be negative"));
    }
    let supplier_variant = spec.supplier_variant.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if supplier_variant.as_ref().is_some_and(|v| v.chars().count() > 200 || v.chars().any(char::is_control)) {
        return Err(invalid("supplier_variant must be at most 200 characters"));
    }
    Ok(ProductMapping {
        sku: Sku::parse(&spec.sku).map_err(invalid)?,
        vendor_id: vendor_id.clone(),
        supplier_name: supplier_name.to_string(),
        product_url: url.to_string(),
        supplier_cost: spec.supplier_cost,
        supplier_variant,
    })
}

/// Maps a SKU to `vendor_id` (creating or replacing the vendor's own mapping), then
/// routes the lines of every order that waited for it; returns the mapping and how many
/// lines found their vendor. Another vendor's SKU is a conflict unless `force` (the
/// operator moving it).
pub async fn map(app: &App, vendor_id: &VendorId, spec: ProductSpec, force: bool) -> Result<(ProductMapping, usize), ServiceError> {
    let mapping = mapping_of(vendor_id, spec)?;
    let existing = app.tables.product_versioned(&mapping.sku).await?;
    if let Some((current, _)) = &existing
        && current.vendor_id != *vendor_id
        && !force
    {
        return Err(ServiceError::Conflict(format!("SKU {} is mapped by another vendor; the operator can move it", mapping.sku)));
    }
    app.tables.put_product(&mapping, existing.map(|(_, version)| version)).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict(format!("SKU {} changed meanwhile; read it and try again", mapping.sku)),
        other => other.into(),
    })?;
    let rerouted = super::reroute::route_waiting(app, &mapping.sku).await?;
    Ok((mapping, rerouted))
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

/// Takes the vendor's own mapping of `sku` away.
pub async fn unmap(app: &App, vendor_id: &VendorId, sku: &str) -> Result<ProductMapping, ServiceError> {
    let mapping = own(app, vendor_id, sku).await?;
    app.tables.delete_product(&mapping.sku).await?;
    Ok(mapping)
}
