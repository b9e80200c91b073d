//! Every item's key: one function per row of DESIGN's "Storage" table (and per row
//! this store adds to it), each returning `(pk, sk)`, so that a key is spelled in one
//! place and its unit test is the table's row. A storefront's text in a key (a shop, an
//! order number, a tracking number, an event id) is capped: a key has limits a
//! storefront does not know.

use crate::domain::ids::{OrderId, Sku, VendorId};
use chrono::{DateTime, Utc};
use sha2::Digest;

/// A partition key and a sort key.
pub(super) type Key = (String, String);

/// The sort-key prefix of every event item (the outbox): what the stream relay takes.
pub const EVENT_SK_PREFIX: &str = "EVT#";

/// A storefront's text as part of a key: itself when short, else its hash.
pub(super) fn capped(text: &str) -> String {
    if text.len() <= 200 { text.to_string() } else { format!("sha256:{}", hex::encode(sha2::Sha256::digest(text.as_bytes()))) }
}

/// A time as the due index and the ledger sort it: fixed width, to the second, UTC.
pub(super) fn key_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An order's partition: the order, its vendor orders, their history and its events.
pub(super) fn order_pk(order_id: &OrderId) -> String {
    format!("ORDER#{order_id}")
}

/// A vendor's partition: its profile, balance, ledger, payouts and earnings.
pub(super) fn vendor_pk(vendor_id: &VendorId) -> String {
    format!("VENDOR#{vendor_id}")
}

/// order: `ORDER#{order_id}` / `ORDER`.
pub(super) fn order(order_id: &OrderId) -> Key {
    (order_pk(order_id), "ORDER".into())
}

/// vendor order: `ORDER#{order_id}` / `VO#{vendor_id}`, then `VO#{vendor_id}#{n}` for
/// a later round.
pub(super) fn vendor_order(order_id: &OrderId, vendor_id: &VendorId, round: u32) -> Key {
    let sk = if round > 1 { format!("VO#{vendor_id}#{round}") } else { format!("VO#{vendor_id}") };
    (order_pk(order_id), sk)
}

/// The sort-key prefix of a vendor order's history: `H#{vendor_id}#` for the first
/// round, `H#{vendor_id}.{n}#` for later ones ('.' is never in a vendor id, so no
/// round's prefix reads another's).
pub(super) fn history_prefix(vendor_id: &VendorId, round: u32) -> String {
    if round > 1 { format!("H#{vendor_id}.{round}#") } else { format!("H#{vendor_id}#") }
}

/// history entry: `ORDER#{order_id}` / `H#{vendor_id}#{at}#{seq}` (seq zero-padded, so
/// that entries of one instant sort in order).
pub(super) fn history(order_id: &OrderId, vendor_id: &VendorId, round: u32, at: DateTime<Utc>, seq: u64) -> Key {
    (order_pk(order_id), format!("{}{}#{seq:06}", history_prefix(vendor_id, round), at.to_rfc3339()))
}

/// The sort-key prefix of a vendor order's purchases: `BUY#{vendor_id}#{round}#`.
pub(super) fn purchase_prefix(vendor_id: &VendorId, round: u32) -> String {
    format!("BUY#{vendor_id}#{round}#")
}

/// purchase: `ORDER#{order_id}` / `BUY#{vendor_id}#{round}#{api}`.
pub(super) fn purchase(order_id: &OrderId, vendor_id: &VendorId, round: u32, api: crate::domain::supplier::SupplierApi) -> Key {
    (order_pk(order_id), format!("{}{}", purchase_prefix(vendor_id, round), api.as_str()))
}

/// supplier order number: `SUPPLYREF#{api}#{reference}` / `REF`.
pub(super) fn purchase_ref(api: crate::domain::supplier::SupplierApi, reference: &str) -> Key {
    (format!("SUPPLYREF#{}#{}", api.as_str(), capped(reference)), "REF".into())
}

/// supplier account: `VENDOR#{vendor_id}` / `SUPPLIER#{api}`.
pub(super) fn supplier_connection(vendor_id: &VendorId, api: crate::domain::supplier::SupplierApi) -> Key {
    (vendor_pk(vendor_id), format!("SUPPLIER#{}", api.as_str()))
}

/// supplier authorization under way: `OAUTH#{state}` / `STATE` (the state is a random
/// nonce the callback brings back).
pub(super) fn oauth_state(state: &str) -> Key {
    (format!("OAUTH#{state}"), "STATE".into())
}

/// push account: `SUPPLYHOOK#{keyed hash of the account}` / `HOOK`.
pub(super) fn supplier_hook(hash: &str) -> Key {
    (format!("SUPPLYHOOK#{hash}"), "HOOK".into())
}

/// vendor: `VENDOR#{vendor_id}` / `PROFILE`.
pub(super) fn vendor(vendor_id: &VendorId) -> Key {
    (vendor_pk(vendor_id), "PROFILE".into())
}

/// vendor balance: `VENDOR#{vendor_id}` / `BALANCE`.
pub(super) fn balance(vendor_id: &VendorId) -> Key {
    (vendor_pk(vendor_id), "BALANCE".into())
}

/// ledger entry: `VENDOR#{vendor_id}` / `LEDGER#{at}#{entry_id}`.
pub(super) fn ledger_entry(vendor_id: &VendorId, at: DateTime<Utc>, entry_id: &str) -> Key {
    (vendor_pk(vendor_id), format!("LEDGER#{}#{entry_id}", key_time(at)))
}

/// payout: `VENDOR#{vendor_id}` / `PAYOUT#{payout_id}`.
pub(super) fn payout(vendor_id: &VendorId, payout_id: &str) -> Key {
    (vendor_pk(vendor_id), format!("PAYOUT#{payout_id}"))
}

/// An earning (added to DESIGN's table): `VENDOR#{vendor_id}` / `EARN#{earning_id}`.
pub(super) fn earning(vendor_id: &VendorId, earning_id: &str) -> Key {
    (vendor_pk(vendor_id), format!("EARN#{earning_id}"))
}

/// The earnings of one vendor order (its parcels' `EARN#{vendor order}-{n}`): the
/// partition and sort-key prefix to query. A later round's id extends the first's, so
/// what the query finds is filtered by its vendor order.
pub(super) fn earnings_of(vendor_id: &VendorId, vendor_order: &str) -> Key {
    (vendor_pk(vendor_id), format!("EARN#{vendor_order}-"))
}

/// product mapping: `SKU#{sku}` / `PRODUCT`.
pub(super) fn product(sku: &Sku) -> Key {
    (format!("SKU#{sku}"), "PRODUCT".into())
}

/// API key: `APIKEY#{sha256 hex of key}` / `KEY`.
pub(super) fn api_key(key_hash: &str) -> Key {
    (format!("APIKEY#{key_hash}"), "KEY".into())
}

/// The sort-key prefix of a vendor's scorecard day items.
pub(super) const SCORE_PREFIX: &str = "SCORE#";

/// vendor scorecard day (DESIGN's `SCORE#{day}`, sharded): `VENDOR#{vendor_id}` /
/// `SCORE#{yyyy-mm-dd}#{shard}`.
pub(super) fn score_day(vendor_id: &VendorId, day: chrono::NaiveDate, shard: u32) -> Key {
    (vendor_pk(vendor_id), format!("{SCORE_PREFIX}{day}#{shard}"))
}

/// Where a vendor's scorecard stood at its last daily evaluation: `VENDOR#{vendor_id}` /
/// `STANDING`.
pub(super) fn standing(vendor_id: &VendorId) -> Key {
    (vendor_pk(vendor_id), "STANDING".into())
}

/// operator key: `OPKEY#{sha256 hex of key}` / `KEY`.
pub(super) fn operator_key(key_hash: &str) -> Key {
    (format!("OPKEY#{key_hash}"), "KEY".into())
}

/// The partition (gsi3) of the vendors' SKU claims that wait for the operator.
pub(super) const CLAIMS_PK: &str = "CLAIMS";

/// The listing-index partition of every operator key, oldest first.
pub(super) const OPERATOR_KEYS_PK: &str = "OPKEYS";

/// The partition of the orders of one customer's email (added to DESIGN's table):
/// `EMAIL#{keyed hash of the address}`, never the address.
pub(super) fn email_pk(hash: &str) -> String {
    format!("EMAIL#{hash}")
}

/// customer email: `EMAIL#{keyed hash}` / `{order_id}` (one item per order).
pub(super) fn email_lookup(hash: &str, order_id: &OrderId) -> Key {
    (email_pk(hash), order_id.to_string())
}

/// event (the outbox): its order's partition, else its vendor's, else `MARKETPLACE` (a
/// data request naming no order held) / `EVT#{event_id}`.
pub(super) fn event(order_id: Option<&OrderId>, vendor_id: Option<&VendorId>, event_id: &str) -> Key {
    let pk = match (order_id, vendor_id) {
        (Some(order_id), _) => order_pk(order_id),
        (None, Some(vendor_id)) => vendor_pk(vendor_id),
        (None, None) => "MARKETPLACE".to_string(),
    };
    (pk, format!("{EVENT_SK_PREFIX}{event_id}"))
}

/// sent email: `SENT#{event_id}#{sha256 of recipient}` / `SENT` (the address, trimmed
/// and lower-cased, is never in the key).
pub(super) fn sent(event_id: &str, recipient: &str) -> Key {
    let digest = hex::encode(sha2::Sha256::digest(recipient.trim().to_lowercase().as_bytes()));
    (format!("SENT#{event_id}#{digest}"), "SENT".into())
}

/// idempotency record: `IDEM#{vendor_id}#{idempotency key}` / `IDEM`.
pub(super) fn idempotency(vendor_id: &VendorId, key: &str) -> Key {
    (format!("IDEM#{vendor_id}#{key}"), "IDEM".into())
}

/// The partition of a storefront order number's items (`order show #1001` is one query).
pub(super) fn order_number_pk(number: &str) -> String {
    format!("NUM#{}", capped(number))
}

/// storefront order number: `NUM#{order number}` / `{source}#{shop}`.
pub(super) fn order_number(number: &str, source: &str, shop: &str) -> Key {
    (order_number_pk(number), capped(&format!("{source}#{shop}")))
}

/// The partition of a tracking number: upper-cased (carriers' numbers are
/// case-insensitive) and capped.
pub(super) fn tracking_pk(number: &str) -> String {
    format!("TRACK#{}", capped(&number.trim().to_ascii_uppercase()))
}

/// tracking number: DESIGN's `TRACK#{number}` / `TRACK` became a collection, one item
/// per vendor order shipping under the number (`{order_id}#{vendor_id}`), so that one
/// parcel can carry several of a vendor's orders.
pub(super) fn tracked_parcel(number: &str, order_id: &OrderId, vendor_id: &VendorId) -> Key {
    (tracking_pk(number), format!("{order_id}#{vendor_id}"))
}

/// The number's claim in that collection: the vendor that last shipped under it (no
/// order id starts with `CLAIM`).
pub(super) fn number_claim(number: &str) -> Key {
    (tracking_pk(number), "CLAIM".into())
}

/// A carrier feed's event, applied once (added to DESIGN's table):
/// `CARRIER#{source}#{event_id}` / `CARRIER`.
pub(super) fn carrier_event(source: &str, event_id: &str) -> Key {
    (format!("CARRIER#{source}#{}", capped(event_id)), "CARRIER".into())
}

/// The partition of the orders waiting for a SKU to be mapped.
pub(super) fn waiting_pk(sku: &Sku) -> String {
    format!("WAIT#{sku}")
}

/// SKU waiting to be mapped: `WAIT#{sku}` / `{order_id}`.
pub(super) fn waiting(sku: &Sku, order_id: &OrderId) -> Key {
    (waiting_pk(sku), order_id.to_string())
}

/// suppressed address: `SUPPRESS#{email, lower-cased}` / `ADDRESS` (DESIGN's sort key
/// `SUPPRESS`; `ADDRESS` is what the items were first written with, and is kept).
pub(super) fn suppression(email: &str) -> Key {
    (format!("SUPPRESS#{}", email.trim().to_lowercase()), "ADDRESS".into())
}

/// The listing-index partition of every vendor, by id.
pub(super) const VENDORS_PK: &str = "VENDORS";

/// The listing-index partition of the suppressed addresses, newest first.
pub(super) const SUPPRESSIONS_PK: &str = "SUPPRESSIONS";

/// The listing-index partition of a vendor's SKU mappings, by SKU.
pub(super) fn products_pk(vendor_id: &VendorId) -> String {
    format!("PRODUCTS#{vendor_id}")
}

/// The listing-index partition of a shop's orders; a shop name too long for a key is
/// hashed (a shop header is the storefront's, not ours to trust with a key's limits).
pub(super) fn shop_pk(source: &str, shop: &str) -> String {
    if shop.len() <= 200 { format!("SHOP#{source}#{shop}") } else { format!("SHOP#{source}#sha256:{}", hex::encode(sha2::Sha256::digest(shop.as_bytes()))) }
}

/// The reconciliation poll's cursor of one shop: the newest change it has queued.
pub(super) fn reconcile_cursor(source: &str, shop: &str) -> Key {
    (format!("RECONCILE#{source}#{}", capped(shop)), "CURSOR".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_id() -> OrderId {
        OrderId::derive("shopify", "", "450789469")
    }

    fn acme() -> VendorId {
        VendorId::parse("acme").unwrap()
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().to_utc()
    }

    fn key(pk: &str, sk: &str) -> Key {
        (pk.to_string(), sk.to_string())
    }

    #[test]
    fn an_order_lives_under_its_own_partition() {
        let id = order_id();
        assert_eq!(order(&id), key(&format!("ORDER#{id}"), "ORDER"));
    }

    #[test]
    fn a_vendor_order_is_filed_by_vendor_and_a_later_round_apart() {
        let id = order_id();
        assert_eq!(vendor_order(&id, &acme(), 1), key(&format!("ORDER#{id}"), "VO#acme"));
        assert_eq!(vendor_order(&id, &acme(), 2), key(&format!("ORDER#{id}"), "VO#acme#2"));
    }

    #[test]
    fn a_history_entry_sorts_by_time_then_seq_and_a_rounds_prefix_reads_no_other() {
        let id = order_id();
        assert_eq!(history(&id, &acme(), 1, at(), 7), key(&format!("ORDER#{id}"), "H#acme#2026-11-20T10:00:00+00:00#000007"));
        assert!(history(&id, &acme(), 2, at(), 1).1.starts_with("H#acme.2#"));
        assert!(!history(&id, &acme(), 2, at(), 1).1.starts_with(&history_prefix(&acme(), 1)));
    }

    #[test]
    fn a_vendors_profile_balance_ledger_payouts_and_earnings_share_its_partition() {
        assert_eq!(vendor(&acme()), key("VENDOR#acme", "PROFILE"));
        assert_eq!(balance(&acme()), key("VENDOR#acme", "BALANCE"));
        assert_eq!(ledger_entry(&acme(), at(), "e1"), key("VENDOR#acme", "LEDGER#2026-11-20T10:00:00Z#e1"));
        assert_eq!(payout(&acme(), "acme.20261120.ab12cd34"), key("VENDOR#acme", "PAYOUT#acme.20261120.ab12cd34"));
        assert_eq!(earning(&acme(), "o1.acme.1"), key("VENDOR#acme", "EARN#o1.acme.1"));
    }

    #[test]
    fn a_product_mapping_is_keyed_by_its_sku_as_sent() {
        assert_eq!(product(&Sku::parse("TS-RED #2").unwrap()), key("SKU#TS-RED #2", "PRODUCT"));
    }

    #[test]
    fn an_api_key_is_found_by_its_hash_only() {
        assert_eq!(api_key("9f86d081"), key("APIKEY#9f86d081", "KEY"));
    }

    #[test]
    fn an_event_lives_with_its_order_else_its_vendor_else_the_marketplace() {
        let id = order_id();
        assert_eq!(event(Some(&id), Some(&acme()), "e1"), key(&format!("ORDER#{id}"), "EVT#e1"));
        assert_eq!(event(None, Some(&acme()), "e1"), key("VENDOR#acme", "EVT#e1"));
        assert_eq!(event(None, None, "e1"), key("MARKETPLACE", "EVT#e1"));
    }

    #[test]
    fn a_sent_mail_is_keyed_by_event_and_the_recipients_hash_never_the_address() {
        let (pk, sk) = sent("e1", " Bob@Example.com ");
        assert_eq!((pk.clone(), sk), sent("e1", "bob@example.com"), "one address however it is written");
        assert!(pk.starts_with("SENT#e1#") && !pk.to_lowercase().contains("bob"), "{pk}");
        assert_eq!(pk.len(), "SENT#e1#".len() + 64);
    }

    #[test]
    fn an_idempotency_record_is_per_vendor_and_key() {
        assert_eq!(idempotency(&acme(), "place-AE-1"), key("IDEM#acme#place-AE-1", "IDEM"));
    }

    #[test]
    fn an_order_number_finds_each_storefronts_order_under_it() {
        assert_eq!(order_number("#1001", "shopify", "demo.myshopify.com"), key("NUM##1001", "shopify#demo.myshopify.com"));
        let long = "x".repeat(300);
        assert!(order_number(&long, "generic", "s").0.starts_with("NUM#sha256:"), "a storefront's text is capped");
    }

    #[test]
    fn a_tracking_number_is_one_collection_whatever_its_case() {
        let id = order_id();
        assert_eq!(tracked_parcel(" 1z5r89390357567127", &id, &acme()), key("TRACK#1Z5R89390357567127", &format!("{id}#acme")));
        assert_eq!(number_claim("1Z5R89390357567127"), key("TRACK#1Z5R89390357567127", "CLAIM"));
        assert_eq!(carrier_event("aftership", "evt-1"), key("CARRIER#aftership#evt-1", "CARRIER"));
    }

    #[test]
    fn a_line_waiting_for_a_vendor_is_filed_under_its_sku() {
        let id = order_id();
        assert_eq!(waiting(&Sku::parse("MUG-1").unwrap(), &id), key("WAIT#MUG-1", id.as_str()));
    }

    #[test]
    fn a_suppressed_address_is_one_item_whatever_its_case() {
        assert_eq!(suppression(" Bob@Example.COM"), key("SUPPRESS#bob@example.com", "ADDRESS"));
    }

    #[test]
    fn a_shops_listing_partition_hashes_a_shop_name_too_long_for_a_key() {
        assert_eq!(shop_pk("shopify", "demo.myshopify.com"), "SHOP#shopify#demo.myshopify.com");
        assert_eq!((VENDORS_PK, SUPPRESSIONS_PK, products_pk(&acme()).as_str()), ("VENDORS", "SUPPRESSIONS", "PRODUCTS#acme"));
        assert!(shop_pk("generic", &"s".repeat(201)).starts_with("SHOP#generic#sha256:"));
    }
}
