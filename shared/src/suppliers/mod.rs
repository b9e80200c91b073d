//! The suppliers' order APIs dropflow places and follows supplier orders through: one
//! module per supplier, each naming the pages its requests follow. The parsing is pure
//! (unit-tested against the documented shapes); the HTTP clients are built only where
//! a function calls a supplier (feature `supplier-api`).

pub mod aliexpress;
pub mod cj;

use crate::domain::supplier::SupplierApi;
use crate::ports::SupplierClient;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The supplier clients a process has, by API (none: supplier automation is off and
/// purchases wait).
pub type Suppliers = BTreeMap<SupplierApi, Arc<dyn SupplierClient>>;

/// The clients the settings give: CJ always (each vendor brings its own key),
/// AliExpress when the marketplace's app is configured.
#[cfg(feature = "supplier-api")]
pub fn from_settings(settings: &crate::config::SupplierSettings, clock: Arc<dyn crate::ports::Clock>) -> Suppliers {
    let timeout = std::time::Duration::from_secs(u64::from(settings.timeout_seconds));
    let mut clients: Suppliers = BTreeMap::new();
    clients.insert(SupplierApi::Cj, Arc::new(cj::Cj::new(&settings.cj_url, timeout)));
    if let Some((key, secret)) = &settings.aliexpress_app {
        clients.insert(SupplierApi::Aliexpress, Arc::new(aliexpress::AliExpress::new(&settings.aliexpress_url, key, secret, timeout, clock)));
    }
    clients
}
