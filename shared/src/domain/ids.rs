//! Identifiers and contact values that cannot hold an invalid value: each has one
//! constructor that checks it, and serde goes through that constructor.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A value refused at the edge, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidValue {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        InvalidValue { field, reason: reason.into() }
    }
}

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The only way in: checks the value.
            pub fn parse(value: &str) -> Result<Self, InvalidValue> {
                let check: fn(&str) -> Result<String, InvalidValue> = $check;
                check(value).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn slug(field: &'static str, value: &str, max: usize) -> Result<String, InvalidValue> {
    let ok = !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok { Ok(value.to_string()) } else { Err(InvalidValue::new(field, format!("{value:?} must be 1-{max} of a-z, 0-9, '-' or '_'"))) }
}

checked_string!(
    /// A vendor's id, chosen by the operator at onboarding ("acme-gadgets").
    VendorId,
    |v| slug("vendor_id", v, 64)
);

checked_string!(
    /// An order's id: derived from source, shop and the storefront's order id, so a
    /// re-delivered webhook lands on the same order. Opaque to vendors.
    OrderId,
    |v| {
        let ok = v.len() == 26 && v.starts_with("o_") && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if ok { Ok(v.to_string()) } else { Err(InvalidValue::new("order_id", format!("{v:?} is not an order id"))) }
    }
);

impl OrderId {
    /// The stable id of a storefront order.
    pub fn derive(source: &str, shop: &str, external_id: &str) -> OrderId {
        let digest = Sha256::digest(format!("{source}\n{shop}\n{external_id}").as_bytes());
        OrderId(format!("o_{}", &hex::encode(digest)[..24]))
    }
}

/// The longest SKU, in characters.
pub const MAX_SKU_CHARS: usize = 255;

checked_string!(
    /// A stock-keeping unit as the storefront sends it: any text of 1 to 255 characters,
    /// spaces, '#' and any script included ("TEE RED M", "TS-RED #2", "CAFÉ-1"), with no
    /// control characters. It goes into keys as it is: 255 characters are at most 1,020
    /// bytes, well within DynamoDB's key limits.
    Sku,
    |v| {
        use unicode_normalization::UnicodeNormalization;
        // Compared in Unicode NFC (an "É" sent as E + combining accent is the same SKU);
        // case is kept and matters ("mug-1" is not "MUG-1"), as storefronts treat it.
        let v: String = v.trim().nfc().collect();
        let v = v.as_str();
        let ok = !v.is_empty() && v.chars().count() <= MAX_SKU_CHARS && !v.chars().any(char::is_control);
        if ok { Ok(v.to_string()) } else { Err(InvalidValue::new("sku", format!("{v:?} is not a SKU (1-{MAX_SKU_CHARS} characters, no control characters)"))) }
    }
);

checked_string!(
    /// An email address: one '@', a non-empty local part, a dotted domain, no spaces.
    Email,
    |v| {
        let v = v.trim();
        let valid = v.len() <= 254
            && !v.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
            && matches!(v.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.contains('@') && domain.contains('.')
                    && !domain.starts_with('.') && !domain.ends_with('.'));
        if valid { Ok(v.to_string()) } else { Err(InvalidValue::new("email", format!("{v:?} is not an email address"))) }
    }
);

checked_string!(
    /// The supplier's own order number for what a vendor ordered ("AE-8155-2231",
    /// "CJ 1234 / 2"): 1 to 200 characters, trimmed, no control characters. It goes
    /// into mail and onto the dashboard as it is, so nothing in it may break a line.
    SupplierOrderRef,
    |v| {
        let v = v.trim();
        let ok = !v.is_empty() && v.chars().count() <= 200 && !v.chars().any(char::is_control);
        if ok { Ok(v.to_string()) } else { Err(InvalidValue::new("supplier_order_ref", "must be 1-200 characters with no control characters")) }
    }
);

/// Outside text (a storefront's id, a SKU) as part of an event id or key: kept when
/// short and plain, else its hash, so that no value can overrun a key or carry a
/// separator into it.
pub fn key_part(text: &str) -> String {
    use sha2::Digest;
    if !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        text.to_string()
    } else {
        format!("sha256-{}", &hex::encode(sha2::Sha256::digest(text.as_bytes()))[..32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_supplier_order_ref_is_one_trimmed_line_of_at_most_200_characters() {
        assert_eq!(SupplierOrderRef::parse("  AE-8155-2231 ").unwrap().as_str(), "AE-8155-2231");
        assert_eq!(SupplierOrderRef::parse(&"é".repeat(200)).unwrap().as_str().chars().count(), 200);
        for bad in ["", "   ", "AE-1\nBcc: x@y.example", "AE\u{7}", &"x".repeat(201)] {
            assert!(SupplierOrderRef::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn vendor_ids_are_slugs() {
        assert!(VendorId::parse("acme-gadgets_2").is_ok());
        for bad in ["", "Acme", "a b", "a/b", &"x".repeat(65)] {
            assert!(VendorId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn order_id_is_stable_and_distinct_per_shop() {
        let a = OrderId::derive("shopify", "a.myshopify.com", "1");
        assert_eq!(a, OrderId::derive("shopify", "a.myshopify.com", "1"));
        assert_ne!(a, OrderId::derive("shopify", "b.myshopify.com", "1"));
        assert_ne!(a, OrderId::derive("woocommerce", "a.myshopify.com", "1"));
        assert_eq!(OrderId::parse(a.as_str()).unwrap(), a);
        assert!(OrderId::parse("o_123").is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("bob.norman@hostmail.com").is_ok());
        for bad in ["bob", "@x.com", "bob@", "bob@localhost", "a b@x.com", "a@b@c.com", "<a@b.com>"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn skus_are_printable_without_spaces() {
        assert_eq!(Sku::parse(" IPOD2008GREEN ").unwrap().as_str(), "IPOD2008GREEN");
        assert!(Sku::parse("").is_err());
        for odd in ["TEE RED M", "TS-RED #2", "CAFÉ-1", "T恤-红", &"X".repeat(120), &"É".repeat(255)] {
            assert_eq!(Sku::parse(odd).unwrap().as_str(), odd);
        }
        assert!(Sku::parse(&"X".repeat(256)).is_err());
        assert_eq!(Sku::parse("CAFE\u{301}-1").unwrap(), Sku::parse("CAF\u{C9}-1").unwrap(), "compared in NFC");
        assert_ne!(Sku::parse("mug-1").unwrap(), Sku::parse("MUG-1").unwrap(), "case matters");
        assert!(Sku::parse("A\nB").is_err());
    }

    #[test]
    fn deserialising_goes_through_the_check() {
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        assert!(serde_json::from_str::<VendorId>("\"acme\"").is_ok());
    }
}
