//! The operator's commands: onboard vendors, issue their API keys, map SKUs to vendors
//! and suppliers.

use super::{App, ServiceError};
use crate::domain::ids::{Email, VendorId};
use crate::domain::money::{Currency, Money};
use crate::domain::order::ProductMapping;
use crate::ports::StoreError;
use crate::store::{ApiKeyRecord, VendorProfile};

fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(e.to_string())
}

/// Onboards a vendor; its id must be new.
pub async fn add_vendor(app: &App, vendor_id: &str, name: &str, email: &str, commission_bps: Option<u32>) -> Result<VendorProfile, ServiceError> {
    let commission_bps = commission_bps.unwrap_or(app.config.commission_bps);
    if commission_bps > 10_000 {
        return Err(invalid("commission must be at most 10000 basis points"));
    }
    if name.trim().is_empty() {
        return Err(invalid("the vendor needs a name"));
    }
    let profile = VendorProfile {
        vendor_id: VendorId::parse(vendor_id).map_err(invalid)?,
        name: name.trim().to_string(),
        email: Email::parse(email).map_err(invalid)?,
        commission_bps,
        created_at: app.clock.now(),
    };
    app.tables.put_vendor(&profile).await.map_err(|e| match e {
        StoreError::ConditionFailed => ServiceError::Conflict(format!("vendor {vendor_id} already exists")),
        other => other.into(),
    })?;
    Ok(profile)
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
    let mut secret = [0u8; 24];
    getrandom::fill(&mut secret).map_err(|e| ServiceError::Mail(format!("no randomness: {e}")))?;
    let key = format!("dfk_{}", hex::encode(secret));
    let record = ApiKeyRecord { vendor_id, prefix: key[..12].to_string(), created_at: app.clock.now(), revoked: false };
    app.tables.put_api_key(&super::vendor::key_hash(&key), &record).await?;
    Ok(key)
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
    /// Move the SKU from the vendor that maps it now.
    pub force: bool,
}

/// Maps a SKU to its vendor and supplier (`services::products::map`): the operator may
/// move another vendor's SKU with `force`.
pub async fn add_product(app: &App, input: ProductInput<'_>) -> Result<(ProductMapping, usize), ServiceError> {
    let vendor_id = existing_vendor(app, input.vendor_id).await?;
    let currency = Currency::parse(input.currency).map_err(invalid)?;
    let supplier_cost = Money::parse_decimal(input.cost, currency).map_err(invalid)?;
    let spec = super::products::ProductSpec {
        sku: input.sku.to_string(),
        supplier_name: input.supplier_name.to_string(),
        product_url: input.product_url.to_string(),
        supplier_cost,
        supplier_variant: input.variant.map(str::to_string),
    };
    super::products::map(app, &vendor_id, spec, input.force).await
}
