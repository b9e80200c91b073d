//! Personal data and its redaction (Shopify's `customers/redact` and `shop/redact`):
//! which values of an order identify its customer, and how a text or a stored value
//! is rid of them. The rules are here; the services decide when an order may be
//! redacted (once nothing of it is still on its way) and reach every item that holds it.

use super::address::Address;
use super::order::CanonicalOrder;
use serde_json::Value;

/// What stands where personal data was.
pub const REDACTED: &str = "[redacted]";

/// Why an order redacted at the storefront's request has no address any more: a line
/// mapped later stays unroutable instead of going to a vendor without one.
pub const REDACTED_ADDRESS_PROBLEM: &str = "the customer's personal data was redacted at the storefront's request";

/// Values shorter than this are not searched for in free text: a one- or two-letter
/// name part would shred every word it occurs in. They are still cleared from the
/// fields that hold them.
const SHORTEST_NEEDLE: usize = 3;

/// The values that identify a customer in what dropflow holds of an order: names,
/// email, phone numbers and address parts (the country and region are kept: they say
/// where orders go, not who placed them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonalData {
    values: Vec<String>,
}

impl PersonalData {
    /// The personal values of `order` and of the addresses it shipped to before.
    pub fn of(order: &CanonicalOrder, former_addresses: &[Address]) -> PersonalData {
        let mut data = PersonalData::default();
        data.add(&order.customer_name);
        if let Some(email) = &order.customer_email {
            data.add(email.as_str());
        }
        for address in order.shipping_address.iter().chain(former_addresses) {
            data.add_address(address);
        }
        data
    }

    /// Adds an address's identifying parts.
    pub fn add_address(&mut self, address: &Address) {
        for part in [
            Some(&address.name),
            address.company.as_ref(),
            Some(&address.line1),
            address.line2.as_ref(),
            Some(&address.city),
            address.postal_code.as_ref(),
            address.phone.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            self.add(part);
        }
    }

    /// Adds one value (blank, already redacted or known ones are skipped).
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.is_empty() || value == REDACTED || self.values.iter().any(|v| v == value) {
            return;
        }
        self.values.push(value.to_string());
        // Longest first, so that "Anna Smith" is replaced whole before "Anna" is.
        self.values.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then_with(|| a.cmp(b)));
    }

    /// Whether nothing personal is known.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values, longest first (what a mail outbox searches its copies for).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// `text` with every personal value in it replaced by `[redacted]`; emails match
    /// whatever their case.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in self.values.iter().filter(|v| v.chars().count() >= SHORTEST_NEEDLE) {
            if value.contains('@') {
                out = replace_ignoring_ascii_case(&out, value);
            } else {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        out
    }

    /// Whether `text` holds any personal value.
    pub fn found_in(&self, text: &str) -> bool {
        self.scrub(text) != text
    }

    /// Scrubs every string of a stored value, keys aside; true when anything changed.
    pub fn scrub_json(&self, value: &mut Value) -> bool {
        match value {
            Value::String(text) => {
                let scrubbed = self.scrub(text);
                let changed = scrubbed != *text;
                *text = scrubbed;
                changed
            }
            Value::Array(items) => items.iter_mut().fold(false, |changed, item| self.scrub_json(item) | changed),
            Value::Object(map) => map.values_mut().fold(false, |changed, item| self.scrub_json(item) | changed),
            _ => false,
        }
    }
}

fn replace_ignoring_ascii_case(text: &str, needle: &str) -> String {
    let (lower_text, lower_needle) = (text.to_ascii_lowercase(), needle.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    // ASCII lowercasing keeps byte offsets, so positions in the copy are positions here.
    for (at, _) in lower_text.match_indices(&lower_needle) {
        if at < rest {
            continue;
        }
        out.push_str(&text[rest..at]);
        out.push_str(REDACTED);
        rest = at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// The address a vendor order keeps once redacted: where it went (country, region),
/// not to whom.
pub fn redacted_address(address: &Address) -> Address {
    Address {
        name: REDACTED.into(),
        company: None,
        line1: REDACTED.into(),
        line2: None,
        city: REDACTED.into(),
        region: address.region.clone(),
        postal_code: None,
        country_code: address.country_code.clone(),
        phone: None,
    }
}

/// The order with its customer's personal data gone: no email, no address (its lines,
/// should any be mapped later, stay unroutable with the reason).
pub fn redacted_order(order: &CanonicalOrder) -> CanonicalOrder {
    CanonicalOrder {
        customer_email: None,
        customer_name: REDACTED.into(),
        shipping_address: None,
        address_problem: Some(REDACTED_ADDRESS_PROBLEM.into()),
        ..order.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::address::AddressParts;
    use crate::domain::ids::{Email, OrderId};
    use crate::domain::money::{Currency, Money};
    use proptest::prelude::*;

    fn address(name: &str, line1: &str) -> Address {
        Address::parse(AddressParts {
            name: Some(name.into()),
            line1: Some(line1.into()),
            city: Some("Louisville".into()),
            region: Some("KY".into()),
            postal_code: Some("40202".into()),
            country_code: Some("US".into()),
            phone: Some("+1 555 0100".into()),
            ..AddressParts::default()
        })
        .unwrap()
    }

    fn order() -> CanonicalOrder {
        let usd = Currency::parse("USD").unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        CanonicalOrder {
            order_id: OrderId::derive("shopify", "", "1"),
            source: "shopify".into(),
            shop: "s".into(),
            external_id: "1".into(),
            order_number: "#1001".into(),
            currency: usd,
            payment: crate::domain::order::Payment::Paid,
            customer_email: Some(Email::parse("Bob.Norman@Example.com").unwrap()),
            customer_name: "Bob Norman".into(),
            shipping_address: Some(address("Bob Norman", "Chestnut Street 92")),
            address_problem: None,
            lines: vec![],
            total: Money::zero(usd),
            created_at: at,
            updated_at: at,
            language: None,
        }
    }

    #[test]
    fn every_identifying_value_of_the_order_and_its_former_addresses_is_scrubbed() {
        let data = PersonalData::of(&order(), &[address("Robert Norman", "Old Road 1")]);
        let text = "Ship to Bob Norman, Chestnut Street 92, Louisville KY 40202, US. Before: Robert Norman, Old Road 1. Phone: +1 555 0100. Mail bob.norman@example.COM";
        let scrubbed = data.scrub(text);
        for gone in ["Bob Norman", "Chestnut", "Louisville", "40202", "Robert", "Old Road", "555", "example"] {
            assert!(!scrubbed.contains(gone), "{gone} left in {scrubbed}");
        }
        assert!(scrubbed.contains("KY") && scrubbed.contains("US"), "region and country stay: {scrubbed}");
    }

    #[test]
    fn stored_values_are_scrubbed_in_every_string_and_keys_stay() {
        let data = PersonalData::of(&order(), &[]);
        let mut value = serde_json::json!({"detail": "to Bob Norman", "list": ["Louisville", 3], "Bob Norman": true});
        assert!(data.scrub_json(&mut value));
        assert_eq!(value, serde_json::json!({"detail": "to [redacted]", "list": ["[redacted]", 3], "Bob Norman": true}));
        assert!(!data.scrub_json(&mut value), "a second pass changes nothing");
    }

    #[test]
    fn a_redacted_order_keeps_its_lines_and_money_but_not_whom_it_went_to() {
        let redacted = redacted_order(&order());
        assert_eq!(redacted.customer_email, None);
        assert_eq!(redacted.shipping_address, None);
        assert_eq!(redacted.total, order().total);
        assert!(PersonalData::of(&redacted, &[]).is_empty(), "nothing personal is left to find");
        let vo_address = redacted_address(&address("Bob Norman", "Chestnut Street 92"));
        assert_eq!((vo_address.country_code.as_str(), vo_address.region.as_deref(), vo_address.phone), ("US", Some("KY"), None));
    }

    #[test]
    fn short_values_do_not_shred_other_words() {
        let mut data = PersonalData::default();
        data.add("Al");
        assert_eq!(data.scrub("Alabama"), "Alabama");
    }

    proptest! {
        #[test]
        fn scrubbing_any_text_never_panics_and_leaves_no_needle(text in "\\PC{0,60}", needle in "[a-zA-Z@. ÉéÅ]{3,12}") {
            let mut data = PersonalData::default();
            data.add(&needle);
            let scrubbed = data.scrub(&format!("{text}{needle}{text}"));
            let trimmed = needle.trim();
            if trimmed.chars().count() >= SHORTEST_NEEDLE && !trimmed.contains('@') {
                prop_assert!(!scrubbed.contains(trimmed) || REDACTED.contains(trimmed));
            }
        }
    }
}
