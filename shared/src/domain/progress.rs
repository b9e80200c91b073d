//! Where each item of a customer's order stands, across all its vendor orders: what the
//! customer's mail says of the whole order. A customer bought one order, not one per
//! vendor, so "delivered" means everything they will get has arrived, and a cancel of
//! one vendor's part is not a cancel of the order.

use super::order::CanonicalOrder;
use super::vendor_order::{VendorOrder, VoState};

/// Where one line stands, for the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Its parcel arrived.
    Delivered,
    /// In a parcel on its way.
    Shipped,
    /// With a vendor, not shipped yet (or not handed to one yet).
    Preparing,
    /// No vendor sells it yet: the operator's to fix, the customer not told yet.
    Waiting,
    /// It will not be sent: its vendor cancelled it, or it was refunded in full.
    NotSent,
}

/// One line of the order and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub line_id: String,
    pub title: String,
    pub quantity: u32,
    pub state: ItemState,
}

/// Every line of an order the customer bought (no zero-quantity line), where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub items: Vec<Item>,
}

impl Progress {
    /// The order's lines against its vendor orders; `unroutable` names the lines no
    /// vendor has (they wait for the operator); `refunded_in_full` the lines that will
    /// not be sent because they were refunded before any vendor had them.
    pub fn of(order: &CanonicalOrder, vendor_orders: &[VendorOrder], unroutable: &[&str], refunded_in_full: &[&str]) -> Progress {
        let items = order
            .lines
            .iter()
            .filter(|line| line.quantity > 0)
            .map(|line| {
                let id = line.line_id.as_str();
                let holders: Vec<&VendorOrder> = vendor_orders.iter().filter(|vo| vo.lines.iter().any(|r| r.line.line_id == id)).collect();
                let state = match holders.iter().find(|vo| vo.state != VoState::Cancelled) {
                    Some(vo) => state_in(vo, id),
                    None if !holders.is_empty() || refunded_in_full.contains(&id) => ItemState::NotSent,
                    None if unroutable.contains(&id) => ItemState::Waiting,
                    None => ItemState::Preparing,
                };
                Item { line_id: line.line_id.clone(), title: line.title.clone(), quantity: line.quantity, state }
            })
            .collect();
        Progress { items }
    }

    /// Whether everything the customer will get has arrived (and something has).
    pub fn all_delivered(&self) -> bool {
        self.count(ItemState::Delivered) > 0 && self.still_coming().next().is_none()
    }

    /// Whether nothing of the order will be sent (every line cancelled or refunded).
    pub fn nothing_sent(&self) -> bool {
        self.items.iter().all(|i| i.state == ItemState::NotSent)
    }

    /// The items that will still come: shipped, being prepared, or waiting for a vendor.
    pub fn still_coming(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| matches!(i.state, ItemState::Shipped | ItemState::Preparing | ItemState::Waiting))
    }

    /// How many units are in `state`.
    pub fn count(&self, state: ItemState) -> u32 {
        self.items.iter().filter(|i| i.state == state).map(|i| i.quantity).sum()
    }

    /// How many units the customer will get (everything not cancelled or refunded).
    pub fn to_deliver(&self) -> u32 {
        self.items.iter().filter(|i| i.state != ItemState::NotSent).map(|i| i.quantity).sum()
    }
}

/// Where line `id` stands in `vo`, which holds it and is not cancelled.
fn state_in(vo: &VendorOrder, id: &str) -> ItemState {
    match vo.shipments.iter().find(|s| s.line_ids.iter().any(|l| l == id)) {
        Some(parcel) if parcel.delivered_at.is_some() => ItemState::Delivered,
        Some(_) => ItemState::Shipped,
        // A vendor order delivered or shipped as a whole (its parcels name no lines).
        None if vo.state == VoState::Delivered => ItemState::Delivered,
        None if vo.state == VoState::Shipped && vo.shipments.iter().all(|s| s.line_ids.is_empty()) => ItemState::Shipped,
        None => ItemState::Preparing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::OrderLine;

    fn order(lines: &[(&str, u32)]) -> CanonicalOrder {
        let mut order: CanonicalOrder = serde_json::from_value(serde_json::json!({
            "order_id": "o_000000000000000000000001", "source": "shopify", "shop": "s", "external_id": "1", "order_number": "#1",
            "currency": "USD", "payment": "paid", "customer_email": null, "customer_name": "Ann", "shipping_address": null,
            "lines": [], "total": {"minor": 0, "currency": "USD"}, "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"
        }))
        .expect("an order");
        order.lines = lines
            .iter()
            .map(|(id, quantity)| {
                let mut line: OrderLine =
                    serde_json::from_value(serde_json::json!({"line_id": id, "sku": null, "title": format!("Item {id}"), "variant": null,
                    "quantity": quantity, "unit_price": {"minor": 100, "currency": "USD"}, "paid": {"minor": 100, "currency": "USD"}}))
                    .expect("a line");
                line.quantity = *quantity;
                line
            })
            .collect();
        order
    }

    #[test]
    fn an_order_with_lines_still_open_is_not_delivered() {
        let order = order(&[("1", 1), ("2", 2), ("3", 0)]);
        let waiting = Progress::of(&order, &[], &["2"], &[]);
        assert_eq!(waiting.items.len(), 2, "a zero-quantity line is no item");
        assert_eq!((waiting.items[0].state, waiting.items[1].state), (ItemState::Preparing, ItemState::Waiting));
        assert!(!waiting.all_delivered() && !waiting.nothing_sent());
        let refunded = Progress::of(&order, &[], &[], &["1", "2"]);
        assert!(refunded.nothing_sent() && !refunded.all_delivered(), "nothing will come, and nothing came");
        assert_eq!(refunded.to_deliver(), 0);
    }
}
