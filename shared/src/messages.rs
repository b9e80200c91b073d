//! The words of every mail the notifier sends, one builder per kind: each takes what the
//! event and the stored records say and answers a `Message` (`mail.rs` renders it). Pure:
//! no store, no sending; `services::notifier` decides who gets which, claims, sends and
//! marks. Everything a customer, vendor or storefront wrote is text here, never markup
//! or a header.

use crate::domain::events::{self as payload};
use crate::domain::progress::{ItemState, Progress};
use crate::domain::sla::ClockKind;
use crate::domain::vendor_order::VendorOrder;
use crate::mail::{Action, Message, Section};
use crate::store::OrderRecord;
use chrono::{DateTime, Utc};

/// What is still to come of an order, item by item, in the customer's words.
pub(crate) fn still_coming(progress: &Progress) -> Vec<String> {
    progress.still_coming().map(coming).collect()
}

/// One item still to come, in the customer's words.
pub(crate) fn coming(item: &crate::domain::progress::Item) -> String {
    let state = if item.state == ItemState::Shipped { "on its way" } else { "being prepared" };
    format!("{} x {}: {state}", item.quantity, item.title)
}

/// An instant as mail writes it ("Fri 20 Nov 2026 10:00 UTC").
pub(crate) fn when(instant: DateTime<Utc>) -> String {
    instant.format("%a %d %b %Y %H:%M UTC").to_string()
}

/// The vendor's mail of more time the operator gave it for one step: the new deadline.
pub(crate) fn clock_extended(vo: &VendorOrder, extended: &payload::ClockExtended) -> Message {
    let step = match extended.clock {
        ClockKind::PlaceWithSupplier | ClockKind::PlaceReminder => "to order it from the supplier",
        ClockKind::Ship | ClockKind::ShipPromised => "to ship it",
        ClockKind::AutoCancel => "to order it from the supplier before it is cancelled",
        _ => "for it",
    };
    Message {
        subject: format!("Order {}: more time {step}", vo.order_number),
        heading: format!("You have until {} {step}", when(extended.due_at)),
        intro: vec![format!(
            "The marketplace gave you {} more hours {step}: the new deadline is {}. What the customer was told does not change.",
            extended.hours,
            when(extended.due_at)
        )],
        sections: Vec::new(),
        action: None,
    }
}

/// The operator's mail of a vendor's claim on a SKU that orders wait for: who, which
/// SKU, and the two commands that settle it. The SKU is the vendor's text: data only.
pub(crate) fn sku_claimed(vendor_id: &crate::domain::ids::VendorId, sku: &str) -> Message {
    Message {
        subject: format!("Vendor {vendor_id} claims a SKU that orders wait for"),
        heading: "A vendor claims a waiting SKU".into(),
        intro: vec![
            "Orders are waiting for this SKU. They go to the vendor, with their customers' addresses, only once you approve the claim.".into(),
            "Approve it with `dropflow product approve <SKU>`, or refuse it with `dropflow product refuse <SKU>` (the orders keep waiting).".into(),
        ],
        sections: vec![Section {
            links: Vec::new(),
            title: "Claim".into(),
            rows: vec![("Vendor".into(), vendor_id.to_string()), ("SKU".into(), sku.to_string())],
            lines: vec![],
        }],
        action: None,
    }
}

/// A scorecard measure that turned: to the vendor (at risk: what to mend before it
/// fails), or to the operator (failing: who, and whether it was held for review).
pub(crate) fn scorecard_changed(vendor: &crate::domain::vendor::VendorProfile, changed: &payload::ScorecardChanged, for_operator: bool) -> Message {
    let name: &str = match crate::domain::scorecard::Measure::parse(&changed.measure) {
        Some(measure) => scorecard_words(measure),
        None => &changed.measure,
    };
    let value = changed.value.map_or_else(|| "-".to_string(), |v| format!("{:.1} %", v * 100.0));
    let target = format!("{:.1} %", changed.target * 100.0);
    let rows = vec![
        ("Measure".into(), name.to_string()),
        ("Now".into(), format!("{value} ({} of {}, last {} days)", changed.numerator, changed.denominator, changed.window_days)),
        ("Target".into(), target),
    ];
    let (subject, heading, intro) = if for_operator {
        let held = if changed.held {
            "Its new orders are held for your review: `dropflow vendor release <ID>`, or Release in the console, routes them.".to_string()
        } else {
            "Its orders keep flowing (SCORECARD_HOLD_FAILING holds a failing vendor's new orders for review).".to_string()
        };
        (format!("Vendor {} is failing: {name}", vendor.vendor_id), format!("{} is failing a scorecard measure", vendor.name), vec![held])
    } else {
        (
            format!("Your scorecard: {name} is at risk"),
            format!("{name} is close to the marketplace's limit"),
            vec!["Mend it before it fails: a failing measure is reported to the marketplace operator, who may hold your new orders for review.".into()],
        )
    };
    Message { subject, heading, intro, sections: vec![Section { links: Vec::new(), title: "Scorecard".into(), rows, lines: vec![] }], action: None }
}

/// A scorecard measure in words.
fn scorecard_words(measure: crate::domain::scorecard::Measure) -> &'static str {
    use crate::domain::scorecard::Measure;
    match measure {
        Measure::LateSupplierOrderRate => "late supplier orders",
        Measure::LateShipmentRate => "late shipments",
        Measure::ValidTrackingRate => "valid tracking",
        Measure::CancelRate => "cancels before shipping",
        Measure::OnTimeDeliveryRate => "on-time delivery",
        Measure::RefundRate => "refunds",
    }
}

/// The vendor's mail of a release: how much became available, from which orders.
pub(crate) fn earnings_released(released: &payload::Released) -> Message {
    let amount = &released.amount;
    let lines = released.orders.iter().map(|o| format!("Order {}: {}", o.order_number, o.amount)).collect();
    Message {
        subject: format!("Earnings released: {amount}"),
        heading: format!("{amount} of your earnings is now available"),
        intro: vec![
            "The holding period of these delivered orders has ended. Their earnings are in your available balance and go out with your next payout.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "Released".into(), rows: vec![("Amount".into(), amount.to_string())], lines }],
        action: None,
    }
}

/// The vendor's mail of a payout: created (what it covers), or transferred (the
/// operator's reference). Which one is the event's to say, not the payout's state when
/// the mail goes out: a payout marked paid before its `payout_created` mail was sent
/// still gets both mails, in their own words.
pub(crate) fn payout_mail(payout: &crate::domain::ledger::Payout, transferred: bool) -> Message {
    let mut rows = vec![("Payout".to_string(), payout.payout_id.clone()), ("Amount".into(), payout.amount.to_string())];
    let lines = payout.entries.iter().map(|e| format!("{} {}: {}", e.at.format("%Y-%m-%d"), e.detail, e.delta)).collect();
    let (subject, heading, intro) = match payout.reference.as_ref().filter(|_| transferred) {
        Some(reference) => {
            rows.push(("Transfer reference".into(), reference.clone()));
            (
                format!("Payout {} sent: {}", payout.payout_id, payout.amount),
                format!("{} is on its way to you", payout.amount),
                "The marketplace has transferred this payout. Allow your bank's usual time for it to arrive.".to_string(),
            )
        }
        None => (
            format!("Payout {} created: {}", payout.payout_id, payout.amount),
            format!("A payout of {} is being prepared", payout.amount),
            "Your available balance is in this payout. The marketplace sends it in its next payment run and emails you the transfer reference.".to_string(),
        ),
    };
    Message {
        subject,
        heading,
        intro: vec![intro],
        sections: vec![
            Section { links: Vec::new(), title: "Payout".into(), rows, lines: vec![] },
            Section { links: Vec::new(), title: "What it covers".into(), rows: vec![], lines },
        ],
        action: None,
    }
}

/// The customer's confirmation of a paid order: what they bought, and what comes next.
pub(crate) fn order_confirmed(record: &OrderRecord) -> Message {
    let order = &record.order;
    // What the customer bought: a line edited to nothing or a negative one (a discount
    // sent as a line) is not an item.
    let lines = order
        .lines
        .iter()
        .filter(|l| l.quantity > 0 && l.paid.minor >= 0)
        .map(|l| format!("{} x {}{} ({})", l.quantity, l.title, l.variant.as_ref().map(|v| format!(" - {v}")).unwrap_or_default(), l.paid))
        .collect();
    let mut sections = vec![Section { links: Vec::new(), title: "Your order".into(), rows: vec![("Total".into(), order.total.to_string())], lines }];
    if let Some(address) = &order.shipping_address {
        sections.push(Section { links: Vec::new(), title: "Shipping to".into(), rows: vec![], lines: address.lines() });
    }
    Message {
        subject: format!("Order {} confirmed", order.order_number),
        heading: format!("Thank you, {}: order {} is confirmed", order.customer_name, order.order_number),
        intro: vec!["We have your order and it is being prepared. We will email you the tracking number as soon as it ships.".into()],
        sections,
        action: None,
    }
}

/// The vendor's brief: what to buy from which supplier, for whom, by when. `added`
/// names the lines that joined an order briefed already: the brief is whole again, with
/// the new lines named in its subject and marked, so that nothing is bought twice.
pub(crate) fn supplier_brief(vo: &VendorOrder, added: &[String]) -> Message {
    let deadline = vo.supplier_deadline().map(when).unwrap_or_else(|| "as soon as possible".into());
    let mut sections = vec![Section { links: Vec::new(), title: "Ship to".into(), rows: vec![], lines: vo.shipping_address.lines() }];
    let new_lines: Vec<&crate::domain::order::RoutedLine> = vo.lines.iter().filter(|r| added.contains(&r.line.line_id)).collect();
    for routed in &vo.lines {
        let (line, supplier) = (&routed.line, &routed.supplier);
        let mut rows = vec![
            ("SKU".to_string(), line.sku.as_ref().map(|s| s.to_string()).unwrap_or_default()),
            ("Quantity".into(), line.quantity.to_string()),
            ("Supplier".into(), supplier.supplier_name.clone()),
            ("Supplier cost".into(), supplier.supplier_cost.to_string()),
        ];
        rows.extend(supplier.supplier_variant.clone().or_else(|| line.variant.clone()).map(|v| ("Variant".to_string(), v)));
        rows.push(("Customer paid".into(), line.paid.to_string()));
        let new = if new_lines.iter().any(|r| r.line.line_id == line.line_id) { "NEW: " } else { "" };
        let title = format!("{new}{}{}", line.title, line.variant.as_ref().map(|v| format!(" ({v})")).unwrap_or_default());
        let links = vec![Action { label: "Product URL".into(), url: supplier.product_url.clone() }];
        sections.push(Section { links, title, rows, lines: vec![] });
    }
    let record = "Then record the supplier order in your dashboard.".to_string();
    if new_lines.is_empty() {
        return Message {
            subject: format!("New order {}: order from your supplier by {deadline}", vo.order_number),
            heading: format!("New order {} for {}", vo.order_number, vo.customer_name),
            intro: vec![format!("Order these items from your supplier by {deadline}, shipping straight to the customer's address below."), record],
            sections,
            action: None,
        };
    }
    let names: Vec<String> = new_lines
        .iter()
        .map(|r| format!("{} x {}{}", r.line.quantity, r.line.title, r.line.variant.as_ref().map(|v| format!(" ({v})")).unwrap_or_default()))
        .collect();
    let count = vo.lines.len();
    Message {
        subject: format!("Order {}: {} joined it; order all {count} lines by {deadline}", vo.order_number, names.join(", ")),
        heading: format!("Order {} has {} more", vo.order_number, if new_lines.len() == 1 { "a line" } else { "lines" }),
        intro: vec![
            format!("The store added {} to this order, which you have not ordered from the supplier yet.", names.join(" and ")),
            format!(
                "Order all {count} lines below (the new ones are marked NEW) in one supplier order by {deadline}, shipping to the customer's address below. This replaces the earlier brief: do not order from both."
            ),
            record,
        ],
        sections,
        action: None,
    }
}

/// The vendor's mail of a refund of its lines: what the customer got back, and what it
/// means for the vendor's money: nothing earned yet (before delivery), less held (a
/// reversal), or taken back from the available balance (a clawback after release).
pub(crate) fn refunded_for_vendor(vo: &VendorOrder, refund: &payload::RefundRecorded) -> Message {
    let refund_id = refund.refund_id.as_str();
    let own: Vec<&crate::domain::vendor_order::LineRefund> = vo.refunds.iter().filter(|r| r.refund_id == refund_id).collect();
    let total = own.iter().try_fold(None::<crate::domain::money::Money>, |sum, r| match sum {
        None => Some(Some(r.amount)),
        Some(sum) => sum.checked_add(r.amount).ok().map(Some),
    });
    let total = total.flatten().map(|m| m.to_string()).unwrap_or_else(|| "?".into());
    let title = |line_id: &str| vo.lines.iter().find(|l| l.line.line_id == line_id).map_or(line_id.to_string(), |l| l.line.title.clone());
    // A refund of money only (no units back) names no quantity.
    let lines = own
        .iter()
        .map(|r| if r.quantity > 0 { format!("{} x {}: {}", r.quantity, title(&r.line_id), r.amount) } else { format!("{}: {}", title(&r.line_id), r.amount) })
        .collect();
    let (held, available) = (refund.from_held.map(|m| m.to_string()), refund.from_available.map(|m| m.to_string()));
    let mut rows = vec![("Refund".to_string(), refund_id.to_string()), ("Refunded to the customer".into(), total.clone())];
    let mut intro = vec![format!("The store refunded the customer {total} for the lines below of order {}.", vo.order_number)];
    if let Some(held) = &held {
        rows.push(("Taken from your held earnings".into(), held.to_string()));
        intro.push(format!("What you earn from this order falls by {held}: it is taken from your held earnings, before they are released."));
    }
    if let Some(available) = &available {
        rows.push(("Taken back from your available balance".into(), available.to_string()));
        intro.push(format!(
            "These earnings were released already, so {available} is taken back from your available balance; it is netted against your next payout."
        ));
    }
    if held.is_none() && available.is_none() {
        intro.push(if vo.shipments.iter().any(|s| s.delivered_at.is_some()) {
            "Nothing you earned is taken back for it.".into()
        } else {
            "It came before delivery: you earn nothing on the refunded amount, and nothing you have earned is taken back. If it is for items not yet shipped, ask the marketplace before you send them.".into()
        });
    }
    Message {
        subject: format!("Order {}: the customer was refunded {total}", vo.order_number),
        heading: format!("A refund of order {}", vo.order_number),
        intro,
        sections: vec![
            Section { links: Vec::new(), title: "The refund".into(), rows, lines: vec![] },
            Section { links: Vec::new(), title: "Refunded lines".into(), rows: vec![], lines },
        ],
        action: None,
    }
}

/// The operator's mail of an order with lines no vendor sells: which, and how to settle them.
pub(crate) fn unroutable(record: &OrderRecord) -> Message {
    let lines = record
        .unroutable_lines()
        .map(|(line, reason)| {
            let sku = line.sku.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "no SKU".into());
            format!("{} x {} [{sku}] (line {}): {reason}", line.quantity, line.title, line.line_id)
        })
        .collect();
    Message {
        subject: format!("Order {} has lines no vendor sells", record.order.order_number),
        heading: format!("Order {} could not be fully routed", record.order.order_number),
        intro: vec![
            format!("Order {} ({} {}) is kept, but these lines have no vendor yet, for the reason given with each.", record.order.order_id, record.order.source, record.order.shop),
            "A line whose SKU nobody sells yet is routed by itself as soon as you map the SKU (`dropflow product add`): it joins the vendor's order if nothing was ordered from the supplier yet, or else goes to that vendor as an order of its own. For the other reasons, refund the line or hand it to a vendor yourself.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "Unroutable lines".into(), rows: vec![], lines }],
        action: None,
    }
}

/// The operator's mail of an order set aside whole: why, and what to do with it.
pub(crate) fn parked(record: &OrderRecord, details: &payload::Parked) -> Message {
    let order = &record.order;
    let rows = vec![
        ("Order".to_string(), format!("{} ({})", order.order_number, order.order_id)),
        ("Storefront".into(), format!("{} {}", order.source, order.shop)),
        ("Lines".into(), details.lines.to_string()),
        ("Why".into(), details.reason.clone()),
    ];
    Message {
        subject: format!("Order {} is too large to process automatically", order.order_number),
        heading: format!("Order {} needs a person", order.order_number),
        intro: vec![
            "The storefront's order was verified and is kept whole in the intake dead-letter queue (`dropflow dlq list`), but it is too large to store as one order, so no vendor has it yet.".into(),
            "Split it into smaller orders in the storefront, or hand its lines to the vendors yourself.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "The order".into(), rows, lines: vec![] }],
        action: None,
    }
}

/// The vendor's mail of an order that is no longer its own to send: the storefront
/// cancelled it (do not buy it, or cancel the supplier order), or the operator gave it
/// to another vendor before it was ordered (`handed_over`: do not buy it).
pub(crate) fn storefront_cancelled(vo: &VendorOrder, handed_over: bool) -> Message {
    let placed = match &vo.supplier_order_ref {
        Some(reference) => format!("Cancel supplier order {reference} now, before it ships, and ask the supplier for a refund."),
        None => "You had not ordered from the supplier yet: do not.".into(),
    };
    let (subject, heading, why) = match handed_over {
        false => (
            format!("Order {} was cancelled: cancel the supplier order", vo.order_number),
            format!("Order {} was cancelled by the store", vo.order_number),
            None,
        ),
        true => (
            format!("Order {} was given to another vendor: do not order it", vo.order_number),
            format!("Order {} is no longer yours to send", vo.order_number),
            vo.cancel_reason.as_ref().map(|r| format!("The marketplace operator {r}: another vendor sends it now.")),
        ),
    };
    Message {
        subject,
        heading,
        intro: why.into_iter().chain([placed, "Nothing of this order is to be shipped by you.".into()]).collect(),
        sections: vec![Section {
            links: Vec::new(),
            title: "Cancelled lines".into(),
            rows: vec![],
            lines: vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect(),
        }],
        action: None,
    }
}

/// The vendor's mail of a new shipping address, before anything shipped.
pub(crate) fn address_changed(vo: &VendorOrder) -> Message {
    let intro = match &vo.supplier_order_ref {
        Some(reference) => format!("You ordered from the supplier already (order {reference}): ask the supplier to ship to the new address below."),
        None => "Order from the supplier with the new address below.".into(),
    };
    Message {
        subject: format!("Order {}: new shipping address", vo.order_number),
        heading: format!("Order {} now ships to a new address", vo.order_number),
        intro: vec![intro],
        sections: vec![Section { links: Vec::new(), title: "Ship to".into(), rows: vec![], lines: vo.shipping_address.lines() }],
        action: None,
    }
}

/// The mail of a supplier order dropflow placed (or tried to) that needs its vendor:
/// pay it, confirm the supplier's order number, or order by hand; the operator's copy
/// says whose it is. The supplier's reason is the supplier's text: data only.
pub(crate) fn supplier_needs_vendor(vo: &VendorOrder, needs: &payload::SupplierNeedsVendor, for_operator: bool) -> Message {
    let supplier = crate::domain::supplier::SupplierApi::parse(&needs.supplier).map_or_else(|_| needs.supplier.clone(), |api| api.display_name().to_string());
    let (subject, todo) = match needs.ask.as_str() {
        "pay" => (
            format!("Order {}: pay the {supplier} order", vo.order_number),
            format!("dropflow placed the order with {supplier}. Pay it there so that it ships."),
        ),
        "confirm" => (
            format!("Order {}: confirm the {supplier} order number", vo.order_number),
            format!(
                "{supplier} holds an order under dropflow's id {} but did not name it: find it in your {supplier} orders and record its number.",
                needs.out_order_id
            ),
        ),
        _ => (
            format!("Order {}: order from {supplier} yourself", vo.order_number),
            format!("dropflow could not place this order with {supplier}: order it yourself and record the supplier's order number, as before."),
        ),
    };
    let mut rows = vec![("Why".to_string(), needs.reason.clone()), ("dropflow's id at the supplier".to_string(), needs.out_order_id.clone())];
    if !needs.references.is_empty() {
        rows.push((format!("{supplier} order"), needs.references.join(", ")));
    }
    let mut intro = vec![todo];
    if for_operator {
        intro.insert(0, format!("Vendor {}'s supplier order is due soon and needs the vendor; they were mailed this too.", vo.vendor_id));
    }
    let action = needs.pay_url.clone().filter(|_| needs.ask == "pay" && !for_operator).map(|url| Action { label: format!("Pay on {supplier}"), url });
    Message {
        subject,
        heading: format!("Order {}: the {supplier} order needs you", vo.order_number),
        intro,
        sections: vec![Section { links: Vec::new(), title: "Supplier order".into(), rows, lines: vec![] }],
        action,
    }
}

/// The vendor's notice that its supplier account must be authorized again soon (after
/// that, its supplier orders go back to being placed by hand).
pub(crate) fn supplier_account_expiring(expiring: &payload::SupplierAccountExpiring) -> Message {
    let supplier =
        crate::domain::supplier::SupplierApi::parse(&expiring.supplier).map_or_else(|_| expiring.supplier.clone(), |api| api.display_name().to_string());
    Message {
        subject: format!("Authorize your {supplier} account again before {}", expiring.expires_at.format("%d %b %Y")),
        heading: format!("Your {supplier} connection runs out on {}", when(expiring.expires_at)),
        intro: vec![
            format!(
                "{supplier} lets dropflow use your account until then. Authorize dropflow again (the marketplace operator sends you the link) so that your supplier orders keep being placed for you."
            ),
            "If it runs out, your orders come back to you to place by hand, with a mail for each.".into(),
        ],
        sections: Vec::new(),
        action: None,
    }
}

/// The vendor's notice of an order edit: what changed, line by line, what to send now,
/// and, when the supplier order was placed, that it must be amended. The changes are the
/// event's (what this edit did), the lines the order's as the mail goes out.
pub(crate) fn lines_changed(vo: &VendorOrder, edit: &payload::LinesEdited) -> Message {
    let amend = &edit.amend;
    let intro = if amend.is_empty() {
        "You had not ordered these lines from the supplier yet: order them as they are now.".to_string()
    } else {
        format!("You ordered from the supplier already (order {}): amend that order to match, or cancel it and order again.", amend.join(", "))
    };
    Message {
        subject: format!("Order {} changed: its lines were edited", vo.order_number),
        heading: format!("Order {} was edited at the store", vo.order_number),
        intro: vec![intro],
        sections: vec![
            Section { links: Vec::new(), title: "What changed".into(), rows: vec![], lines: edit.changes.clone() },
            Section {
                links: Vec::new(),
                title: "Send now".into(),
                rows: vec![],
                lines: vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect(),
            },
        ],
        action: None,
    }
}

/// The operator's mail of what intake kept but could not act on by itself.
/// The operator's note of a parcel the storefront would not record.
fn write_back_refused(record: &OrderRecord, parcel: &str, reason: &str) -> Message {
    let number = &record.order.order_number;
    Message {
        subject: format!("Order {number}: the storefront did not record parcel {parcel}"),
        heading: format!("Order {number}: parcel {parcel} is not on the storefront's order"),
        intro: vec![
            "A vendor shipped this parcel, and the customer was told, but the storefront refused to record it as a fulfillment. dropflow will not try again."
                .into(),
            "Fulfil these items in the storefront's admin with the tracking number below, so that the shop's order shows them as sent.".into(),
        ],
        sections: vec![Section {
            links: Vec::new(),
            title: "The parcel".into(),
            rows: vec![("Tracking number".into(), parcel.to_string()), ("The storefront said".into(), reason.to_string())],
            lines: vec![],
        }],
        action: None,
    }
}

pub(crate) fn needs_attention(record: &OrderRecord, attention: &payload::Attention) -> Message {
    use payload::Attention;
    let number = &record.order.order_number;
    // The notes about one delivery of an order: what it was, what dropflow did, what to do.
    let note = |subject: String, heading: String, intro: [&str; 2], section: Section| Message {
        subject,
        heading,
        intro: intro.iter().map(|t| t.to_string()).collect(),
        sections: vec![section],
        action: None,
    };
    let section = |title: &str, rows: Vec<(String, String)>, lines: Vec<String>| Section { links: Vec::new(), title: title.into(), rows, lines };
    let (change, vendor_orders, address) = match attention {
        Attention::Refund { refund_id, amount, reason } => return refund_to_split(record, refund_id, amount.as_deref(), reason),
        Attention::ErasedBeforeArrival => {
            return note(
                format!("Order {number} arrived after its customer's data was erased"),
                format!("Order {number}: nothing to ship to"),
                [
                    "The storefront asked to erase this customer's personal data before the order reached dropflow. The order is kept without it and was handed to no vendor.",
                    "If it was paid, refund or settle it with the customer at the store.",
                ],
                section("Items", vec![("Total".into(), record.order.total.to_string())], paid_lines(&record.order)),
            );
        }
        Attention::UnlinkedSite => {
            return note(
                format!("WooCommerce order {number} names no site"),
                format!("Order {number}: which WooCommerce site is it from?"),
                [
                    "This WooCommerce order came without its `_links` (its own REST address), under a webhook secret that several sites share, so nothing signed says which site sent it. It is kept and routed, filed under no site.",
                    "Give each site its own secret (`WOOCOMMERCE_WEBHOOK_SECRET` as `site=secret` pairs): the secret then names the site. Until then, a later delivery of this order that does carry its links is filed apart from this one; check the order's vendors before they ship it twice.",
                ],
                section(
                    "The order",
                    vec![("Order".into(), format!("{number} ({})", record.order.order_id)), ("WooCommerce id".into(), record.order.external_id.clone())],
                    vec![],
                ),
            );
        }
        Attention::FutureStamp { stamped, taken_as } => {
            return note(
                format!("Order {number} was sent stamped in the future"),
                format!("Order {number}: a last-modified time not to be trusted"),
                [
                    "The storefront sent this order with a last-modified time in the future. dropflow kept it, but takes that version as of the time below, so that later versions of the order still count.",
                    "Check the storefront's clock, or the app or plugin that changed the order.",
                ],
                section("Stamps", vec![("Sent as".into(), as_sent(stamped)), ("Taken as".into(), as_sent(taken_as))], vec![]),
            );
        }
        Attention::WriteBackRefused { parcel, reason } => return write_back_refused(record, parcel, reason),
        Attention::Cancelled { vendor_orders } => ("was cancelled", vendor_orders, &[][..]),
        Attention::LinesChanged { vendor_orders } => ("had lines edited", vendor_orders, &[][..]),
        Attention::AddressChanged { vendor_orders, address } => ("has a new shipping address", vendor_orders, &address[..]),
    };
    let describe = |v: &payload::Untouched| {
        let state = format!("{}: {}", v.vendor_id, v.state);
        if v.lines.is_empty() { state } else { format!("{state} ({})", v.lines.join("; ")) }
    };
    let lines = vendor_orders.iter().map(describe).collect();
    // The address this change asked for (a later change's mail names its own).
    let mut sections = Vec::new();
    if !address.is_empty() {
        sections.push(Section { links: Vec::new(), title: "New address".into(), rows: vec![], lines: address.to_vec() });
    }
    Message {
        subject: format!("Order {} {change} after part of it shipped", record.order.order_number),
        heading: format!("Order {} {change} at the storefront", record.order.order_number),
        intro: vec![
            "Every vendor order that had not shipped followed the change. These had shipped already and were left as they are: arrange a return, a refund or a redirect with the customer and the vendor.".into(),
        ],
        sections: [vec![Section { links: Vec::new(), title: "Already shipped".into(), rows: vec![], lines }], sections].concat(),
        action: None,
    }
}

/// An instant as the event carried it (RFC 3339, `Z`).
pub(crate) fn as_sent(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The order's lines with what was paid for each, one per row.
pub(crate) fn paid_lines(order: &crate::domain::order::CanonicalOrder) -> Vec<String> {
    order.lines.iter().map(|l| format!("{} x {} ({})", l.quantity, l.title, l.paid)).collect()
}

/// A storefront refund dropflow could not apply by itself, with the reason: it named no
/// lines on an order of several (the operator splits it), or an amount was unreadable,
/// negative or more than was left on its line (the operator checks it with the store).
pub(crate) fn refund_to_split(record: &OrderRecord, refund_id: &str, amount: Option<&str>, reason: &str) -> Message {
    let rows = vec![
        ("Refund".to_string(), refund_id.to_string()),
        ("Amount".into(), amount.unwrap_or("unknown").to_string()),
        ("Why it needs you".into(), reason.to_string()),
    ];
    let lines = paid_lines(&record.order);
    let number = &record.order.order_number;
    let store = format!("{} {}", record.order.source, record.order.shop);
    let unsplit = reason == "the storefront did not say which lines it was for";
    let (subject, intro) = if unsplit {
        (
            format!("Order {number} was refunded: split the refund over its lines"),
            vec![
                format!(
                    "The storefront ({store}) refunded part of order {number} but did not say which lines the money was for, so no vendor order carries it yet."
                ),
                "It is kept on the order with the reason. Decide which lines it covers and settle it with their vendors.".into(),
            ],
        )
    } else {
        (
            format!("Order {number}: a refund could not be applied"),
            vec![
                format!(
                    "The storefront ({store}) sent a refund of order {number} that dropflow did not apply as sent; the reason is below. Any line of it that could be read was applied."
                ),
                "What was not applied is kept on the order. Check the refund in the store, then settle it with the vendors concerned.".into(),
            ],
        )
    };
    Message {
        subject,
        heading: format!("A refund of order {number} needs you"),
        intro,
        sections: vec![
            Section { links: Vec::new(), title: "The refund".into(), rows, lines: vec![] },
            Section { links: Vec::new(), title: "The order's lines".into(), rows: vec![], lines },
        ],
        action: None,
    }
}

/// What dropflow holds of an order's customer, for the operator to answer a data
/// request with (a redacted order says so).
/// The operator's mail of a data request that names orders dropflow does not hold (or
/// none at all): the customer is still owed an answer, which is that nothing of these
/// is held here.
pub(crate) fn data_not_held(request: &payload::DataRequested) -> Message {
    let request_id = &request.request_id;
    let ids: Vec<String> = request.not_held.iter().map(|id| format!("Order {id}")).collect();
    let what = if ids.is_empty() { "names no order" } else { "names orders dropflow does not hold" };
    Message {
        subject: format!("Data request {request_id}: dropflow holds nothing of it"),
        heading: format!("A customer's data request {what}"),
        intro: vec![
            "The storefront forwarded a customer's request for the data held about them. dropflow holds nothing of what it names: no order, address or mail."
                .into(),
            "Answer the customer within the law's deadline with what the store itself holds.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "Not held".into(), rows: vec![("Request".into(), request_id.to_string())], lines: ids }],
        action: None,
    }
}

/// The operator's mail of a customer's data request: what is held of them, to send on.
pub(crate) fn data_request(record: &OrderRecord, vendor_orders: &[VendorOrder], request_id: &str) -> Message {
    let order = &record.order;
    let mut sections = Vec::new();
    if let Some(redaction) = record.redaction.as_ref().and_then(|r| r.done_at) {
        sections.push(Section {
            links: Vec::new(),
            title: "Personal data".into(),
            rows: vec![("Redacted".into(), when(redaction))],
            lines: vec!["Nothing personal is held of this order any more.".into()],
        });
    } else {
        let rows = vec![
            ("Name".to_string(), order.customer_name.clone()),
            ("Email".into(), order.customer_email.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "none".into())),
        ];
        sections.push(Section { links: Vec::new(), title: "Customer".into(), rows, lines: vec![] });
        if let Some(address) = &order.shipping_address {
            sections.push(Section { links: Vec::new(), title: "Shipping address".into(), rows: vec![], lines: address.lines() });
        }
        for (n, former) in record.former_addresses.iter().enumerate() {
            sections.push(Section { links: Vec::new(), title: format!("Former shipping address {}", n + 1), rows: vec![], lines: former.lines() });
        }
    }
    let lines = paid_lines(order);
    sections.push(Section { links: Vec::new(), title: "Items".into(), rows: vec![("Total".into(), order.total.to_string())], lines });
    let handed = vendor_orders
        .iter()
        .map(|vo| {
            format!("{}: {}{}", vo.vendor_id, vo.state.as_str(), vo.tracking.as_ref().map(|t| format!(", {} {}", t.carrier, t.number)).unwrap_or_default())
        })
        .collect();
    sections.push(Section { links: Vec::new(), title: "Vendors it was handed to (they hold the shipping address too)".into(), rows: vec![], lines: handed });
    Message {
        subject: format!("Data request {request_id}: what dropflow holds of order {}", order.order_number),
        heading: format!("Customer data request {request_id}, order {}", order.order_number),
        intro: vec![
            format!(
                "The storefront ({} {}) asked, on the customer's behalf, what is held about them. This is everything dropflow holds of order {} ({}).",
                order.source, order.shop, order.order_number, order.order_id
            ),
            "Send it to the customer through the storefront within the legal deadline (30 days under GDPR).".into(),
        ],
        sections,
        action: None,
    }
}

/// The mail of one parcel (`tracking_number`, from the event): its tracking and the
/// lines in it.
pub(crate) fn shipped(vo: &VendorOrder, tracking_number: &str, progress: &Progress) -> Message {
    let shipment = vo.shipments.iter().find(|s| s.tracking.number == tracking_number);
    let tracking = shipment.map(|s| &s.tracking).or(vo.tracking.as_ref());
    let (rows, action) = match tracking {
        Some(t) => (
            vec![("Carrier".to_string(), t.carrier.to_string()), ("Tracking number".into(), t.number.clone())],
            t.link().map(|url| Action { label: "Track your parcel".into(), url }),
        ),
        None => (vec![], None),
    };
    let items = vo
        .lines
        .iter()
        .filter(|r| shipment.is_none_or(|s| s.line_ids.contains(&r.line.line_id)))
        .map(|r| format!("{} x {}", r.line.quantity, r.line.title))
        .collect();
    // The other parcels of the order: shipped already, or still to come.
    let in_this: Vec<&str> = shipment.map(|s| s.line_ids.iter().map(String::as_str).collect()).unwrap_or_default();
    let unshipped: Vec<String> =
        progress.still_coming().filter(|item| item.state != ItemState::Shipped && !in_this.contains(&item.line_id.as_str())).map(coming).collect();
    let several = vo.shipments.len() > 1 || !unshipped.is_empty() || progress.items.iter().any(|i| i.state == ItemState::Delivered);
    let mut intro = vec!["Your parcel has left the warehouse. Tracking can take a day to show the first scan.".to_string()];
    let mut sections = vec![
        Section { links: Vec::new(), title: "Tracking".into(), rows, lines: vec![] },
        Section { links: Vec::new(), title: "In this parcel".into(), rows: vec![], lines: items },
    ];
    if !unshipped.is_empty() {
        intro.push("More parcels follow: the rest of your order is still being prepared, and we will email you as each one ships.".into());
        sections.push(Section { links: Vec::new(), title: "Still to come".into(), rows: vec![], lines: unshipped });
    }
    Message {
        subject: if several { format!("Order {}: a parcel has shipped", vo.order_number) } else { format!("Order {} has shipped", vo.order_number) },
        heading: format!("Good news, {}: your order {} is on its way", vo.customer_name, vo.order_number),
        intro,
        sections,
        action,
    }
}

/// The mail of a parcel whose number the vendor corrected: the parcel's mail again,
/// with the right number, saying the one sent before was wrong.
pub(crate) fn tracking_corrected(vo: &VendorOrder, from: &str, tracking_number: &str, progress: &Progress) -> Message {
    let mut message = shipped(vo, tracking_number, progress);
    message.subject = format!("Order {}: corrected tracking number", vo.order_number);
    message.heading = format!("{}, here is the right tracking number for your parcel", vo.customer_name);
    message.intro = vec![format!(
        "The tracking number we sent you before, {from}, was wrong. Follow your parcel with the one below; tracking can take a day to show the first scan."
    )];
    message
}

/// The customer's mail of a parcel delivered: "was delivered" only when everything
/// they will get has arrived; otherwise how much has, and what is still coming.
pub(crate) fn delivered(record: &OrderRecord, progress: &Progress) -> Message {
    let number = &record.order.order_number;
    let arrived: Vec<String> = progress.items.iter().filter(|i| i.state == ItemState::Delivered).map(|i| format!("{} x {}", i.quantity, i.title)).collect();
    let section = |title: &str, lines: Vec<String>| Section { links: Vec::new(), title: title.into(), rows: vec![], lines };
    if progress.all_delivered() {
        return Message {
            subject: format!("Order {number} was delivered"),
            heading: format!("Your order {number} was delivered"),
            intro: vec!["Everything in it has arrived. We hope you enjoy it. If anything is wrong with it, reply to this email.".into()],
            sections: vec![section("Delivered", arrived)],
            action: None,
        };
    }
    let (done, all) = (progress.count(ItemState::Delivered), progress.to_deliver());
    Message {
        subject: format!("Order {number}: {done} of {all} items delivered"),
        heading: format!("Part of your order {number} has arrived"),
        intro: vec![
            format!("{done} of the {all} items of your order have been delivered. The rest is still coming, and we will email you as it ships and arrives."),
            "If anything that arrived is wrong, reply to this email.".into(),
        ],
        sections: vec![section("Delivered", arrived), section("Still to come", still_coming(progress))],
        action: None,
    }
}

/// The customer's mail of lines no vendor will send: they cannot be sent and will be
/// refunded (see `cannot_send`).
pub(crate) fn voided_for_customer(record: &OrderRecord, ids: &[String], progress: &Progress, store_name: &str) -> Message {
    let order = &record.order;
    let items = order.lines.iter().filter(|l| ids.contains(&l.line_id)).map(|l| format!("{} x {}", l.quantity, l.title)).collect();
    cannot_send(&order.order_number, &order.customer_name, items, Unsent::NoSupplier, progress, store_name)
}

/// The operator's mail of lines voided: which, why they could not be routed, and that
/// the customer was told they will be refunded (the refund is the operator's, at the
/// store).
pub(crate) fn voided_for_operator(record: &OrderRecord, voided: &payload::LinesVoided) -> Message {
    let number = &record.order.order_number;
    let lines = record
        .void_lines
        .iter()
        .filter(|v| voided.lines.contains(&v.line_id))
        .map(|v| {
            let title = record.order.lines.iter().find(|l| l.line_id == v.line_id).map_or("?", |l| l.title.as_str());
            format!("{title} (line {}): {}", v.line_id, v.reason)
        })
        .collect();
    let why = if voided.by == payload::Voider::Clock { "They waited for a vendor longer than UNROUTABLE_NOTICE_HOURS." } else { "You voided them." };
    Message {
        subject: format!("Order {number}: lines will not be sent, refund them"),
        heading: format!("Order {number}: lines no vendor will send"),
        intro: vec![
            format!("{why} They are routed no more, and the customer has been told they cannot be sent and will be refunded."),
            format!("Refund them at the store ({} {}).", record.order.source, record.order.shop),
        ],
        sections: vec![Section { links: Vec::new(), title: "Voided lines".into(), rows: vec![], lines }],
        action: None,
    }
}

/// Why items will not be sent, in the customer's words.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unsent {
    /// The vendor cancelled: the supplier cannot supply them.
    Unavailable,
    /// The clock cancelled: the vendor never ordered them from the supplier.
    NotInTime,
    /// No vendor sells them (their wait for the operator ended, or it voided them).
    NoSupplier,
}

/// The vendor's and the operator's mail of an order the clock cancelled
/// (`SLA_AUTO_CANCEL_HOURS`): the vendor is not to order it now; the operator refunds
/// the customer at the store (nothing was earned on it).
pub(crate) fn auto_cancelled(vo: &VendorOrder, for_operator: bool) -> Message {
    let reason = vo.cancel_reason.clone().unwrap_or_default();
    let intro = if for_operator {
        vec![
            format!("Vendor {}'s part of order {} was cancelled automatically: {reason}.", vo.vendor_id, vo.order_number),
            "The customer has been told these items cannot be sent and will be refunded: refund them at the store. Nothing was earned on them, so no money moves in the vendor's ledger.".into(),
        ]
    } else {
        vec![
            format!("Order {} was cancelled: {reason}. The customer has been told and will be refunded.", vo.order_number),
            "Do not order it from the supplier now. If you did and did not record it, cancel that supplier order.".into(),
        ]
    };
    Message {
        subject: if for_operator {
            format!("Order {}: vendor {}'s part was cancelled, never ordered", vo.order_number, vo.vendor_id)
        } else {
            format!("Order {} was cancelled: it was not ordered from the supplier in time", vo.order_number)
        },
        heading: format!("Order {} was cancelled automatically", vo.order_number),
        intro,
        sections: vec![Section {
            links: Vec::new(),
            title: "Cancelled lines".into(),
            rows: vec![],
            lines: vo.lines.iter().map(|r| format!("{} x {} ({})", r.line.quantity, r.line.title, r.line.paid)).collect(),
        }],
        action: None,
    }
}

/// The customer's side of a vendor's cancellation: in the store's words (the vendor's
/// reason is for the operator), what cannot be sent, and that the store will refund it.
/// When nothing else of the order will come, it is the whole order's cancel, refunded in
/// full; otherwise part of it, with what is still coming.
pub(crate) fn cancelled_for_customer(vo: &VendorOrder, progress: &Progress, why: Unsent, store_name: &str) -> Message {
    let items = vo.lines.iter().map(|r| format!("{} x {}", r.line.quantity, r.line.title)).collect();
    cannot_send(&vo.order_number, &vo.customer_name, items, why, progress, store_name)
}

/// The customer's mail of `items` of order `number` that will not be sent, and `why`:
/// that they will be refunded, and what still comes; when nothing else of the order
/// comes or came, the whole order cannot be sent and is refunded in full. One wording
/// for a vendor's cancel, the clock's, and lines no vendor sells.
pub(crate) fn cannot_send(number: &str, customer: &str, items: Vec<String>, why: Unsent, progress: &Progress, store_name: &str) -> Message {
    let why = match why {
        Unsent::Unavailable => "are no longer available from our supplier",
        Unsent::NotInTime => "could not be obtained from our supplier in time",
        Unsent::NoSupplier => "are not sold by any of our suppliers",
    };
    let cannot = Section { links: Vec::new(), title: "Items we cannot send".into(), rows: vec![], lines: items };
    let coming = still_coming(progress);
    if coming.is_empty() && progress.count(ItemState::Delivered) == 0 {
        return Message {
            subject: format!("Your order {number} cannot be sent"),
            heading: format!("We are sorry, {customer}"),
            intro: vec![
                format!("The items of your order {number} {why}, so we cannot send your order."),
                format!("You will not be charged: {store_name} will refund your order in full and email you when it is done."),
            ],
            sections: vec![cannot],
            action: None,
        };
    }
    let rest = if coming.is_empty() { "The rest of your order has been delivered already." } else { "The rest of your order is on its way as planned." };
    let mut sections = vec![cannot];
    if !coming.is_empty() {
        sections.push(Section { links: Vec::new(), title: "Still coming".into(), rows: vec![], lines: coming });
    }
    Message {
        subject: format!("Part of your order {number} cannot be sent"),
        heading: format!("We are sorry, {customer}"),
        intro: vec![
            format!("Some items of your order {number} {why}, so we cannot send them."),
            format!("You will not be charged for them: {store_name} will refund these items and email you when it is done. {rest}"),
        ],
        sections,
        action: None,
    }
}

/// The operator's mail of a vendor's cancel: its reason, and the customer to refund.
pub(crate) fn vendor_cancelled(vo: &VendorOrder) -> Message {
    Message {
        subject: format!("Vendor {} cancelled its part of order {}", vo.vendor_id, vo.order_number),
        heading: format!("Order {}: vendor {} cancelled", vo.order_number, vo.vendor_id),
        intro: vec![
            format!("Reason: {}", vo.cancel_reason.clone().unwrap_or_default()),
            "The customer has been told, kindly and without the vendor's reason, that these items cannot be sent and that the store will be in touch about the refund. Refund or re-source them.".into(),
        ],
        sections: vec![Section { links: Vec::new(), title: "Lines".into(), rows: vec![], lines: vo.lines.iter().map(|r| format!("{} x {} ({})", r.line.quantity, r.line.title, r.line.paid)).collect() }],
        action: None,
    }
}
