//! Reading a shop's changed orders back through the Admin GraphQL API, for the
//! reconciliation poll: what Shopify's webhooks missed is filed by the same intake, so
//! each order read back is written in the shape of the REST order its `orders/updated`
//! webhook carries.
//!
//! As Shopify documents it:
//! - `orders(first, after, query: "updated_at:>'…'", sortKey: UPDATED_AT)` lists the
//!   orders changed after a time, oldest change first, a page at a time with
//!   `pageInfo { hasNextPage endCursor }`
//!   (<https://shopify.dev/docs/api/admin-graphql/latest/queries/orders>); orders older
//!   than 60 days need the `read_all_orders` scope;
//! - one `order(id)` reads each in full
//!   (<https://shopify.dev/docs/api/admin-graphql/latest/objects/Order>,
//!   <https://shopify.dev/docs/api/admin-graphql/latest/objects/LineItem>). A listing
//!   of whole orders with their lines would ask more than the 1,000 points one query
//!   may cost (<https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits>),
//!   so the listing carries ids and change times only.
//!
//! Amounts are the shop's (`shopMoney`), as the webhook's are; ids are the numeric tails
//! of Shopify's global ids, as the webhook's are.

use serde_json::{Map, Value, json};

/// One page of the shop's orders changed after a time: ids and change times only.
pub const CHANGED_ORDERS: &str = "query ChangedOrders($query: String!, $after: String) {
  orders(first: 100, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { legacyResourceId updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}";

/// One order with the fields intake reads of its webhook, its lines a page at a time.
pub const ORDER_AS_WEBHOOK: &str = "query OrderAsWebhook($id: ID!, $after: String) {
  order(id: $id) {
    legacyResourceId name email currencyCode displayFinancialStatus cancelledAt createdAt updatedAt customerLocale
    totalPriceSet { shopMoney { amount } }
    shippingAddress { name firstName lastName company address1 address2 city provinceCode province zip countryCodeV2 phone }
    customer { firstName lastName }
    lineItems(first: 100, after: $after) {
      nodes {
        id sku title variantTitle quantity currentQuantity
        originalUnitPriceSet { shopMoney { amount } }
        totalDiscountSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } } }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}";

/// The search that lists orders changed after `since` (Shopify's search syntax; it
/// travels as a variable, never in the query text).
pub fn changed_after(since: chrono::DateTime<chrono::Utc>) -> String {
    format!("updated_at:>'{}'", since.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// The numeric id at the end of a global id (`gid://shopify/LineItem/466157049`), the
/// id the webhook carries; as a JSON number when it is one.
fn legacy(id: &Value) -> Value {
    let text = id.as_str().unwrap_or_default();
    let tail = text.rsplit('/').next().unwrap_or(text);
    tail.parse::<u64>().map_or_else(|_| Value::String(tail.to_string()), Value::from)
}

/// `{ shopMoney { amount } }` → the amount.
fn amount(set: &Value) -> Value {
    set["shopMoney"]["amount"].clone()
}

/// Copies `from`'s fields into `to` under the webhook's names (`(graphql, rest)`),
/// leaving out what Shopify did not give.
fn renamed(from: &Value, names: &[(&str, &str)]) -> Map<String, Value> {
    names.iter().filter(|(graphql, _)| !from[*graphql].is_null()).map(|(graphql, rest)| ((*rest).to_string(), from[*graphql].clone())).collect()
}

/// One line as the webhook carries it.
fn line(node: &Value) -> Value {
    let mut line = renamed(
        node,
        &[("sku", "sku"), ("title", "title"), ("variantTitle", "variant_title"), ("quantity", "quantity"), ("currentQuantity", "current_quantity")],
    );
    line.insert("id".into(), legacy(&node["id"]));
    line.insert("price".into(), amount(&node["originalUnitPriceSet"]));
    line.insert("total_discount".into(), amount(&node["totalDiscountSet"]));
    let allocations: Vec<Value> =
        node["discountAllocations"].as_array().into_iter().flatten().map(|d| json!({"amount": amount(&d["allocatedAmountSet"])})).collect();
    line.insert("discount_allocations".into(), Value::Array(allocations));
    Value::Object(line)
}

/// The order `ORDER_AS_WEBHOOK` read (`order`, with every page of its lines in
/// `lines`) as the REST order of its `orders/updated` webhook; `None` for an order
/// without its id.
pub fn webhook_body(order: &Value, lines: &[Value]) -> Option<Value> {
    let id = legacy(&order["legacyResourceId"]);
    id.as_u64()?;
    let mut body = renamed(
        order,
        &[
            ("name", "name"),
            ("email", "email"),
            ("currencyCode", "currency"),
            ("cancelledAt", "cancelled_at"),
            ("createdAt", "created_at"),
            ("updatedAt", "updated_at"),
        ],
    );
    body.insert("id".into(), id);
    if let Some(status) = order["displayFinancialStatus"].as_str() {
        body.insert("financial_status".into(), status.to_ascii_lowercase().into());
    }
    body.insert("total_price".into(), amount(&order["totalPriceSet"]));
    let address = &order["shippingAddress"];
    if address.is_object() {
        let names = [
            ("name", "name"),
            ("firstName", "first_name"),
            ("lastName", "last_name"),
            ("company", "company"),
            ("address1", "address1"),
            ("address2", "address2"),
            ("city", "city"),
            ("provinceCode", "province_code"),
            ("province", "province"),
            ("zip", "zip"),
            ("countryCodeV2", "country_code"),
            ("phone", "phone"),
        ];
        body.insert("shipping_address".into(), Value::Object(renamed(address, &names)));
    }
    if order["customer"].is_object() {
        body.insert("customer".into(), Value::Object(renamed(&order["customer"], &[("firstName", "first_name"), ("lastName", "last_name")])));
    }
    body.insert("line_items".into(), lines.iter().map(line).collect());
    Some(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Parsed;

    fn canonical(topic: &str, body: &[u8]) -> crate::domain::order::CanonicalOrder {
        match super::super::parse(topic, "shop.myshopify.com", body).unwrap() {
            Parsed::Order(order, _) => *order,
            other => panic!("{other:?}"),
        }
    }

    fn money(amount: &str) -> Value {
        json!({"shopMoney": {"amount": amount, "currencyCode": "USD"}})
    }

    /// Shopify's paid example order (`tests/fixtures/shopify/orders-create-paid.json`)
    /// as `ORDER_AS_WEBHOOK` reads it.
    fn paid_example() -> (Value, Vec<Value>) {
        let order = json!({
            "legacyResourceId": "450789469", "name": "#1001", "email": "bob.norman@hostmail.com", "currencyCode": "USD",
            "displayFinancialStatus": "PAID", "cancelledAt": null, "createdAt": "2008-01-10T16:00:00Z", "updatedAt": "2008-01-10T16:00:00Z",
            "totalPriceSet": money("409.94"),
            "shippingAddress": {"name": "Bob Norman", "firstName": "Bob", "lastName": "Norman", "company": null, "address1": "Chestnut Street 92",
                "address2": "", "city": "Louisville", "provinceCode": "KY", "province": "Kentucky", "zip": "40202", "countryCodeV2": "US", "phone": "555-625-1199"},
            "customer": {"firstName": "Bob", "lastName": "Norman"},
        });
        let line = |id: &str, sku: &str, variant: &str| {
            json!({"id": format!("gid://shopify/LineItem/{id}"), "sku": sku, "title": "IPod Nano - 8gb", "variantTitle": variant, "quantity": 1,
                "currentQuantity": 1, "originalUnitPriceSet": money("199.00"), "totalDiscountSet": money("0.00"), "discountAllocations": []})
        };
        (order, vec![line("466157049", "IPOD2008GREEN", "green"), line("518995019", "IPOD2008RED", "red"), line("703073504", "IPOD2008BLACK", "black")])
    }

    #[test]
    fn an_order_read_back_files_as_the_same_order_its_webhook_carried() {
        let (order, lines) = paid_example();
        let body = webhook_body(&order, &lines).unwrap();
        let read_back = canonical("orders/updated", body.to_string().as_bytes());
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/shopify/orders-create-paid.json");
        let webhook = canonical("orders/create", &std::fs::read(path).unwrap());
        assert_eq!(read_back, webhook);
    }

    #[test]
    fn discounts_removed_units_and_a_cancel_read_back_as_the_webhook_says_them() {
        let (mut order, mut lines) = paid_example();
        order["cancelledAt"] = "2008-01-11T10:00:00Z".into();
        lines[0]["quantity"] = 3.into();
        lines[0]["currentQuantity"] = 2.into();
        lines[0]["discountAllocations"] = json!([{"allocatedAmountSet": money("10.00")}, {"allocatedAmountSet": money("0.50")}]);
        let read_back = canonical("orders/updated", webhook_body(&order, &lines).unwrap().to_string().as_bytes());
        assert_eq!(read_back.payment, crate::domain::order::Payment::Void);
        assert_eq!((read_back.lines[0].quantity, read_back.lines[0].removed), (2, 1));
        assert_eq!(read_back.lines[0].paid.minor, 3 * 19_900 - 1_050);
        assert_eq!(read_back.lines[0].line_id, "466157049");
    }

    #[test]
    fn an_order_without_its_id_or_with_odd_lines_is_never_guessed() {
        let (mut order, mut lines) = paid_example();
        lines[1]["sku"] = Value::Null;
        lines[2]["originalUnitPriceSet"] = Value::Null;
        let read_back = canonical("orders/updated", webhook_body(&order, &lines).unwrap().to_string().as_bytes());
        assert_eq!(read_back.lines[1].sku, None, "a line without a SKU is kept without one (unroutable)");
        assert!(read_back.lines[2].problem.as_deref().is_some_and(|p| p.contains("price")), "{:?}", read_back.lines[2]);
        order["legacyResourceId"] = "gid://shopify/Order/not-a-number".into();
        assert!(webhook_body(&order, &lines).is_none());
    }

    #[test]
    fn the_search_names_the_time_in_utc_to_the_second() {
        let since = chrono::DateTime::parse_from_rfc3339("2026-12-05T09:30:15.750+01:00").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(changed_after(since), "updated_at:>'2026-12-05T08:30:15Z'");
    }
}
