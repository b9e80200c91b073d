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

/// A supplier's price text ("2.10", "2.345") in `currency`: a price finer than the
/// currency's minor unit is rounded up (never under the supplier's own price); `None`
/// for text that is no decimal.
pub fn price(text: &str, currency: crate::domain::money::Currency) -> Option<crate::domain::money::Money> {
    use crate::domain::money::{Money, MoneyError};
    match Money::parse_decimal(text, currency) {
        Ok(money) => Some(money),
        Err(MoneyError::TooPrecise { .. }) => {
            let (whole, fraction) = text.trim().split_once('.')?;
            let kept: String = fraction.chars().take(usize::from(currency.exponent())).collect();
            let cut = Money::parse_decimal(&format!("{whole}.{kept}"), currency).ok()?;
            Some(Money::from_minor(cut.minor.checked_add(1)?, currency))
        }
        Err(_) => None,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    #[test]
    fn a_supplier_price_finer_than_cents_is_rounded_up() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(price("2.10", usd).map(|m| m.minor), Some(210));
        assert_eq!(price("2.1", usd).map(|m| m.minor), Some(210));
        assert_eq!(price("2.341", usd).map(|m| m.minor), Some(235));
        assert_eq!(price("2.340", usd).map(|m| m.minor), Some(234));
        assert_eq!(price("two", usd), None);
    }
}
