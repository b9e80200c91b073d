//! The OpenAPI document's examples: one real order (the README's #1002, two lines from
//! two suppliers, one parcel delivered and one on its way) and what the other
//! operations answer and take, as the API writes them. The OpenAPI test checks each
//! against its schema's fields, so an example cannot drift from the wire.

use serde_json::{Value, json};

/// An exact amount.
pub fn money() -> Value {
    json!({"amount": "199.00", "currency": "USD"})
}

fn line(line_id: &str, sku: &str, variant: &str, supplier: &str, url: &str, cost: &str) -> Value {
    json!({
        "line_id": line_id, "sku": sku, "title": "IPod Nano - 8gb", "variant": variant, "quantity": 1,
        "unit_price": money(), "paid": money(),
        "supplier": {"name": supplier, "product_url": url, "variant": null,
            "cost_per_unit": {"amount": cost, "currency": "USD"}, "cost_total": {"amount": cost, "currency": "USD"}}
    })
}

fn ups(number: &str) -> Value {
    json!({"carrier": "ups", "carrier_name": "UPS", "number": number, "url": format!("https://www.ups.com/track?tracknum={number}")})
}

/// A vendor order with two lines, two supplier orders and two parcels (one delivered),
/// as `GET /vendor/orders/{id}` answers it (with its history).
pub fn vendor_order() -> Value {
    json!({
        "id": "o_6a9da7e093e5e303bfbbaa89", "order_number": "#1002", "state": "shipped", "currency": "USD",
        "created_at": "2026-12-05T10:51:09Z", "supplier_deadline": null, "overdue": [],
        "customer_name": "Bob Norman",
        "shipping_address": {"name": "Bob Norman", "company": null, "line1": "Chestnut Street 92", "line2": null, "city": "Louisville",
            "region": "KY", "postal_code": "40202", "country_code": "US", "phone": "555-625-1199"},
        "lines": [
            line("466157049", "IPOD2008GREEN", "green", "AliExpress: Shenzhen Store", "https://www.aliexpress.com/item/1005001.html", "61.50"),
            line("518995019", "IPOD2008RED", "red", "CJ Dropshipping", "https://cjdropshipping.com/p/2.html", "58.00"),
        ],
        "supplier_order_ref": "AE-1", "tracking": ups("1Z999AA10123456784"),
        "shipped_at": "2026-12-05T10:51:11Z", "delivered_at": null, "cancel_reason": null,
        "clocks": [{"kind": "tracking_stale", "due_at": "2026-12-11T10:51:11Z"}, {"kind": "delivery_promise", "due_at": "2026-12-25T10:51:11Z"}],
        "refunds": [],
        "supplier_orders": [
            {"reference": "AE-1", "lines": ["466157049"], "placed_at": "2026-12-05T10:51:11Z"},
            {"reference": "CJ-2", "lines": ["518995019"], "placed_at": "2026-12-05T10:51:11Z"},
        ],
        "shipments": [
            {"tracking": ups("1Z5R89390357567127"), "lines": ["466157049"], "shipped_at": "2026-12-05T10:51:11Z", "delivered_at": "2026-12-06T15:02:00Z"},
            {"tracking": ups("1Z999AA10123456784"), "lines": ["518995019"], "shipped_at": "2026-12-05T10:51:11Z", "delivered_at": null},
        ],
        "last_checkpoint": {"tracking_number": "1Z999AA10123456784", "tag": "InTransit", "message": "Departed facility", "location": "Louisville, KY",
            "checkpoint_at": "2026-12-06T08:00:00Z", "received_at": "2026-12-06T08:01:12Z"},
        "economics": {"customer_paid": {"amount": "398.00", "currency": "USD"}, "commission": {"amount": "39.80", "currency": "USD"},
            "supplier_cost": {"amount": "119.50", "currency": "USD"}, "margin": {"amount": "238.70", "currency": "USD"}},
        "earnings": [{"tracking_number": "1Z5R89390357567127", "earned": {"amount": "179.10", "currency": "USD"},
            "delivered_at": "2026-12-06T15:02:00Z", "release_at": "2026-12-20T15:02:00Z", "released_at": null}],
        "history": [
            {"at": "2026-12-05T10:51:09Z", "actor": "storefront", "action": "created", "state": "awaiting_supplier", "detail": null},
            {"at": "2026-12-05T10:51:11Z", "actor": "vendor", "action": "supplier_order_placed", "state": "awaiting_supplier", "detail": "supplier order AE-1"},
        ]
    })
}

/// A page of the vendor's orders: the last page has no cursor.
pub fn order_page() -> Value {
    let mut order = vendor_order();
    if let Some(o) = order.as_object_mut() {
        o.remove("history");
        o.remove("earnings");
    }
    json!({"orders": [order], "cursor": null})
}

/// A SKU mapping.
pub fn product() -> Value {
    json!({"sku": "TS-RED #2", "supplier_name": "CJ Dropshipping", "product_url": "https://cjdropshipping.com/p/1.html",
        "supplier_cost": {"amount": "1.85", "currency": "USD"}, "supplier_variant": "M", "awaiting_approval": false,
        "mode": "auto", "supplier_api": "cj", "supplier_product_id": "1424608189734850560",
        "supplier_sku": "92511400-C758-4474-93CA-66D442F5F787", "shipping_method": "CJPacket Ordinary"})
}

/// What `PUT /vendor/products/{sku}` takes.
pub fn product_body() -> Value {
    json!({"supplier_name": "CJ Dropshipping", "product_url": "https://cjdropshipping.com/p/1.html",
        "supplier_cost": {"amount": "1.85", "currency": "USD"}, "supplier_variant": "M",
        "mode": "auto", "supplier_api": "cj", "supplier_product_id": "1424608189734850560",
        "supplier_sku": "92511400-C758-4474-93CA-66D442F5F787", "shipping_method": "CJPacket Ordinary"})
}

/// A page of the vendor's SKU mappings.
pub fn product_page() -> Value {
    json!({"products": [product()], "cursor": null})
}

/// The vendor's balance in each currency it earned in.
pub fn balances() -> Value {
    let usd = |amount: &str| json!({"amount": amount, "currency": "USD"});
    json!({"balances": [{"currency": "USD", "held": usd("179.10"), "available": usd("358.20"), "in_payout": usd("0.00"), "paid_out": usd("1250.00")}]})
}

/// A page of the vendor's payouts.
pub fn payout_page() -> Value {
    json!({"payouts": [{
        "payout_id": "ipod-shop.20261221.5f3a9c01", "amount": {"amount": "358.20", "currency": "USD"}, "status": "paid",
        "created_at": "2026-12-21T06:00:00Z", "paid_at": "2026-12-22T09:30:00Z", "reference": "SEPA-2026-12-22-0042",
        "entries": [{"entry_id": "e_01", "kind": "released", "amount": {"amount": "358.20", "currency": "USD"}, "at": "2026-12-20T10:51:11Z",
            "detail": "o_6a9da7e093e5e303bfbbaa89 (#1002): held 14 days after delivery"}]
    }], "cursor": null})
}

/// `POST …/supplier-order`.
pub fn supplier_order_body() -> Value {
    json!({"supplier_order_ref": "AE-1", "lines": ["466157049"]})
}

/// `PUT …/shipments/{number}`.
pub fn correction_body() -> Value {
    serde_json::json!({"tracking_number": "RB123456785GB", "carrier": "Royal Mail"})
}

/// `POST …/shipment`.
pub fn shipment_body() -> Value {
    json!({"tracking_number": "1Z5R89390357567127", "lines": ["466157049"]})
}

/// `POST …/delivered`.
pub fn delivered_body() -> Value {
    json!({"tracking_number": "1Z5R89390357567127"})
}

/// `POST …/cancel`.
pub fn cancel_body() -> Value {
    json!({"reason": "supplier out of stock"})
}

/// A webhook taken.
pub fn webhook_answer() -> Value {
    json!({"status": "queued", "reason": null})
}
