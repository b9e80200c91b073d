//! The operator commands, one function per group (`vendor`, `key`, `product`,
//! `orders`, `order`, `payouts`, `dlq`, `suppressions`), and how their listings print.

use super::{
    DlqAction, Format, KeyAction, OperatorKeyAction, OrderAction, PayoutAction, ProductAction, ScorecardAction, SupplierAction, SuppressionAction,
    VendorAction, said,
};
use crate::Local;
use dropflow_shared::domain::ids::{OrderId, VendorId};
use dropflow_shared::domain::sla::ClockKind;
use dropflow_shared::http::operator_wire::AddressBody;
use dropflow_shared::http::wire;
use dropflow_shared::ports::{DeadLetter, DeadLetterQueue};
use dropflow_shared::services::console::{self, Act};
use dropflow_shared::services::operator::{self, ProductInput};
use dropflow_shared::services::{App, money};
use serde_json::{Value, json};
use std::io::Write;

/// Where a command writes what it prints.
type Out<'a> = &'a mut (dyn Write + Send);

/// Prints one line.
pub(super) fn print(out: Out, text: String) -> Result<(), String> {
    writeln!(out, "{text}").map_err(said)
}

/// A listing: a header row naming the columns, then one tab-separated row a record;
/// or, with `--json`, one JSON array of objects keyed by the same names. A cell is
/// data from outside (a vendor's name, a reason): tabs and line breaks in it print as
/// spaces, so that no value can forge a column or a row.
struct Listing {
    columns: &'static [&'static str],
    rows: Vec<Vec<Value>>,
}

impl Listing {
    fn new(columns: &'static [&'static str]) -> Listing {
        Listing { columns, rows: Vec::new() }
    }

    fn row(&mut self, cells: Vec<Value>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }

    fn print(self, format: Format, out: Out) -> Result<(), String> {
        if format.json {
            let objects: Vec<Value> = self.rows.into_iter().map(|row| Value::Object(self.columns.iter().map(|c| c.to_string()).zip(row).collect())).collect();
            return print(out, serde_json::to_string_pretty(&objects).map_err(said)?);
        }
        print(out, self.columns.join("\t"))?;
        for row in self.rows {
            print(out, row.iter().map(cell).collect::<Vec<_>>().join("\t"))?;
        }
        Ok(())
    }
}

/// A listing's cell as text: "-" for nothing, control characters as spaces.
fn cell(value: &Value) -> String {
    let text = match value {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// `dropflow serve`: every function on 127.0.0.1, until stopped.
pub(super) async fn serve(local: &Local, port: u16, chaos: Option<f64>, place: &str, out: Out<'_>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    print(out, format!("dropflow serving on http://127.0.0.1:{port} ({place})"))?;
    print(out, format!("vendor dashboard: http://127.0.0.1:{port}/vendor/app (sign in with a key from `dropflow key create <vendor>`)"))?;
    if let Some(rate) = chaos {
        print(out, format!("chaos: {rate} of calls to every port fail (outages, throttling, timeouts after the effect)"))?;
    }
    // Every source whose secret is the public local default: anyone can sign for it.
    for variable in dropflow_shared::sources::SOURCES.iter().map(|s| s.secret_variable()).filter(|v| std::env::var_os(v).is_none()) {
        print(out, format!("{variable} is unset: webhooks are verified with the public local default secret (development only)"))?;
    }
    if std::env::var_os("STATUS_LINK_KEYS").is_none() {
        print(out, "STATUS_LINK_KEYS is unset: customers' status links use this data dir's own key (status-link.key)".to_string())?;
    }
    if std::env::var_os("SUPPLIER_CREDENTIALS_KEY").is_none() && place.starts_with("data dir") {
        print(out, "warning: SUPPLIER_CREDENTIALS_KEY is unset: vendors' supplier credentials are sealed with this data dir's own key (supplier-credentials.key); keep it with the data".to_string())?;
    }
    local.clone().serve(listener).await.map_err(said)
}

/// `dropflow vendor …`: onboard, list, change, suspend and resume vendors.
pub(super) async fn vendor(app: &App, action: VendorAction, out: Out<'_>) -> Result<(), String> {
    match action {
        VendorAction::Add { vendor_id, name, email, commission_bps, payee } => {
            let v = operator::add_vendor(app, &vendor_id, &name, &email, commission_bps, payee.as_deref()).await.map_err(said)?;
            print(out, format!("vendor {} added ({} <{}>, commission {})", v.vendor_id, v.name, v.email, v.commission_bps))
        }
        VendorAction::List { format } => {
            let mut listing = Listing::new(&["vendor_id", "name", "email", "commission_bps", "state", "payee"]);
            for v in operator::list_vendors(app).await.map_err(said)? {
                let state = if v.suspended { "suspended" } else { "active" };
                listing.row(vec![json!(v.vendor_id), json!(v.name), json!(v.email), json!(v.commission_bps), json!(state), json!(v.payee)]);
            }
            listing.print(format, out)
        }
        VendorAction::Update { vendor_id, name, email, commission_bps, payee } => {
            let changes =
                operator::VendorChanges { name: name.as_deref(), email: email.as_deref(), commission_bps, payee: payee.as_deref(), ..Default::default() };
            let (v, _) = operator::update_vendor(app, &vendor_id, changes).await.map_err(said)?;
            let payee = v.payee.as_deref().unwrap_or("-");
            print(out, format!("vendor {} updated ({} <{}>, commission {}, payee {payee})", v.vendor_id, v.name, v.email, v.commission_bps))
        }
        VendorAction::Suspend { vendor_id } => {
            let changes = operator::VendorChanges { suspended: Some(true), ..Default::default() };
            operator::update_vendor(app, &vendor_id, changes).await.map_err(said)?;
            print(out, format!("vendor {vendor_id} suspended: its keys get 403 and its SKUs route to no one"))
        }
        VendorAction::Hold { vendor_id, reason } => {
            console::set_vendor_state(app, &vendor_id, console::VendorState::Hold(true), Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            print(out, format!("vendor {vendor_id} held for review: its new orders wait until `dropflow vendor release {vendor_id}`"))
        }
        VendorAction::Release { vendor_id, reason } => {
            let (_, routed) = console::set_vendor_state(app, &vendor_id, console::VendorState::Hold(false), Act { by: CLI, reason: &reason, key: None })
                .await
                .map_err(said)?;
            print(out, format!("vendor {vendor_id} released; {routed} waiting order lines routed"))
        }
        VendorAction::Resume { vendor_id } => {
            let changes = operator::VendorChanges { suspended: Some(false), ..Default::default() };
            let (_, routed) = operator::update_vendor(app, &vendor_id, changes).await.map_err(said)?;
            print(out, format!("vendor {vendor_id} resumed; {routed} waiting order lines routed"))
        }
    }
}

/// Who the command line acts as, in an order's history.
const CLI: &str = "cli";

/// `dropflow operator key …`: the operator's own keys.
pub(super) async fn operator_key(app: &App, action: OperatorKeyAction, out: Out<'_>) -> Result<(), String> {
    match action {
        OperatorKeyAction::Create { name } => print(out, operator::create_operator_key(app, &name).await.map_err(said)?),
        OperatorKeyAction::List { format } => {
            let mut listing = Listing::new(&["prefix", "name", "created", "last_used", "state"]);
            for key in operator::list_operator_keys(app).await.map_err(said)? {
                let state = if key.revoked { "revoked" } else { "active" };
                listing.row(vec![json!(key.prefix), json!(key.name), json!(wire::instant(key.created_at)), json!(key.last_used), json!(state)]);
            }
            listing.print(format, out)
        }
        OperatorKeyAction::Revoke { prefix } => {
            let key = operator::revoke_operator_key(app, &prefix).await.map_err(said)?;
            print(out, format!("operator key {} ({}) revoked", key.prefix, key.name))
        }
    }
}

/// `dropflow key …`: a vendor's API keys.
pub(super) async fn key(app: &App, action: KeyAction, out: Out<'_>) -> Result<(), String> {
    match action {
        KeyAction::Create { vendor_id } => print(out, operator::create_key(app, &vendor_id).await.map_err(said)?),
        KeyAction::List { vendor_id, format } => {
            let mut listing = Listing::new(&["prefix", "created", "last_used", "state"]);
            for key in operator::list_keys(app, &vendor_id).await.map_err(said)? {
                let state = if key.revoked { "revoked" } else { "active" };
                let last_used = key.last_used.map_or_else(|| "never".to_string(), |d| d.to_string());
                listing.row(vec![json!(key.prefix), json!(wire::instant(key.created_at)), json!(last_used), json!(state)]);
            }
            listing.print(format, out)
        }
        KeyAction::Revoke { prefix } => {
            let key = operator::revoke_key(app, &prefix).await.map_err(said)?;
            print(out, format!("key {} of vendor {} revoked", key.prefix, key.vendor_id))
        }
    }
}

/// `dropflow product …`: SKU mappings and vendors' claims on SKUs.
pub(super) async fn product(app: &App, action: ProductAction, out: Out<'_>) -> Result<(), String> {
    use dropflow_shared::services::products;
    match action {
        ProductAction::List { vendor, format } => {
            let vendor = vendor.map(|v| VendorId::parse(&v)).transpose().map_err(said)?;
            let mut listing = Listing::new(&["sku", "vendor_id", "supplier", "cost", "url", "state"]);
            for p in operator::all_products(app, vendor.as_ref()).await.map_err(said)? {
                let state = if p.awaiting_approval { "awaiting approval" } else { "mapped" };
                listing.row(vec![
                    json!(p.sku),
                    json!(p.vendor_id),
                    json!(p.supplier_name),
                    json!(p.supplier_cost.to_string()),
                    json!(p.product_url),
                    json!(state),
                ]);
            }
            listing.print(format, out)
        }
        ProductAction::Add { sku, vendor, supplier, url, cost, currency, variant, force, automation } => {
            let input = ProductInput {
                sku: &sku,
                vendor_id: &vendor,
                supplier_name: &supplier,
                product_url: &url,
                cost: &cost,
                currency: &currency,
                variant: variant.as_deref(),
                automation: (*automation).spec(),
                force,
            };
            let (mapping, rerouted) = operator::add_product(app, input).await.map_err(said)?;
            print(out, format!("SKU {} -> vendor {} (supplier {}, cost {})", mapping.sku, mapping.vendor_id, mapping.supplier_name, mapping.supplier_cost))?;
            if rerouted > 0 {
                print(out, format!("{rerouted} waiting order lines routed to {}", mapping.vendor_id))?;
            }
            Ok(())
        }
        ProductAction::Approve { sku } => {
            let (mapping, routed) = products::approve(app, &sku).await.map_err(said)?;
            print(out, format!("SKU {} approved for vendor {}; {routed} waiting order lines routed", mapping.sku, mapping.vendor_id))
        }
        ProductAction::Remove { sku } => {
            let mapping = products::remove(app, &sku).await.map_err(said)?;
            print(out, format!("SKU {} no longer maps to vendor {}; its new lines wait until it is mapped again", mapping.sku, mapping.vendor_id))
        }
        ProductAction::Refuse { sku } => {
            let mapping = products::refuse(app, &sku).await.map_err(said)?;
            print(out, format!("claim of vendor {} on SKU {} refused; its orders keep waiting", mapping.vendor_id, mapping.sku))
        }
    }
}

/// `dropflow orders`: every order newest first, or one vendor's vendor orders.
pub(super) async fn orders(app: &App, vendor: Option<String>, state: Option<String>, limit: u32, format: Format, out: Out<'_>) -> Result<(), String> {
    let limit = usize::try_from(limit).ok().filter(|l| (1..=100).contains(l)).ok_or("--limit must be from 1 to 100")?;
    if let Some(vendor) = vendor {
        let vendor = VendorId::parse(&vendor).map_err(said)?;
        let (orders, _) = dropflow_shared::services::vendor::list(app, &vendor, state.as_deref(), None, limit).await.map_err(said)?;
        let mut listing = Listing::new(&["created", "vendor_order", "order_number", "state"]);
        for vo in orders {
            listing.row(vec![json!(wire::instant(vo.created_at)), json!(vo.id()), json!(vo.order_number), json!(vo.state.as_str())]);
        }
        return listing.print(format, out);
    }
    let mut listing = Listing::new(&["created", "order_id", "order_number", "source", "shop", "status", "total"]);
    for record in operator::list_orders(app, state.as_deref(), limit).await.map_err(|e| format!("--state: {e}"))? {
        let order = &record.order;
        listing.row(vec![
            json!(wire::instant(order.created_at)),
            json!(order.order_id),
            json!(order.order_number),
            json!(order.source),
            json!(order.shop),
            json!(record.listed_as()),
            json!(order.total.to_string()),
        ]);
    }
    listing.print(format, out)
}

/// `dropflow order …`: one order whole, or ending the wait of its unsellable lines.
pub(super) async fn order(app: &App, action: OrderAction, out: Out<'_>) -> Result<(), String> {
    match action {
        OrderAction::Show { reference } => {
            let found = operator::find_orders(app, &reference).await.map_err(said)?;
            if found.is_empty() {
                return Err(format!("no order {reference:?}"));
            }
            // A number two storefronts both used names two orders: said, then both.
            if found.len() > 1 {
                print(out, format!("{reference:?} names {} orders (one per storefront):", found.len()))?;
            }
            for order_id in found {
                let report = operator::show_order(app, &order_id).await.map_err(said)?;
                for line in report_lines(&report) {
                    print(out, line)?;
                }
                if let Some(url) = dropflow_shared::services::status::status_url(&app.config, &order_id) {
                    print(out, format!("customer's status page: {url}"))?;
                }
            }
            Ok(())
        }
        OrderAction::Void { reference, lines, reason } => {
            let order_id = one_order(app, &reference).await?;
            let voided = console::void_lines(app, &order_id, &lines, Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            print(out, format!("{voided} lines of order {order_id} voided: the customer is told they will be refunded; refund them at the store"))
        }
        OrderAction::Give { reference, lines, vendor, reason, supplier, url, cost } => {
            let order_id = one_order(app, &reference).await?;
            let given = match (supplier, url, cost) {
                (Some(supplier_name), Some(product_url), Some(cost)) => {
                    let record = app.tables.order(&order_id).await.map_err(said)?.ok_or_else(|| format!("no order {order_id}"))?;
                    let supplier_cost =
                        dropflow_shared::domain::money::Money::parse_decimal(&cost, record.order.total.currency).map_err(|e| format!("--cost: {e}"))?;
                    Some(console::GivenSupplier { supplier_name, product_url, supplier_cost })
                }
                _ => None,
            };
            let n = console::give_lines(app, &order_id, &lines, &vendor, given.as_ref(), Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            print(out, format!("{n} lines of order {order_id} given to {vendor}; the vendor is briefed"))
        }
        OrderAction::FixAddress { reference, address, reason } => {
            let order_id = one_order(app, &reference).await?;
            let a = address;
            let body = AddressBody {
                name: a.name,
                company: a.company,
                line1: a.line1,
                line2: a.line2,
                city: a.city,
                region: a.region,
                postal_code: a.postal_code,
                country_code: a.country,
                phone: a.phone,
            };
            let address = body.parse().map_err(|e| format!("the address: {e}"))?;
            let n = console::fix_address(app, &order_id, &address, Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            print(out, format!("order {order_id} now ships to {}; {n} vendor orders took the address (their vendors are mailed)", address.lines().join(", ")))
        }
        OrderAction::Resend { reference, event_id, to, reason } => {
            let order_id = one_order(app, &reference).await?;
            console::resend_mail(app, &order_id, &event_id, &to, Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            print(out, format!("the mail of event {event_id} of order {order_id} goes to {to} again"))
        }
        OrderAction::Extend { reference, vendor, clock, hours, reason } => {
            let order_id = one_order(app, &reference).await?;
            let kind = ClockKind::parse(&clock).ok_or_else(|| format!("--clock: one of {}", ClockKind::ALL.map(ClockKind::as_str).join(", ")))?;
            let vo = console::extend_clock(app, &order_id, &vendor, kind, hours, Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            let due = vo.clocks.iter().find(|c| c.kind == kind).map(|c| c.due_at.to_rfc3339()).unwrap_or_default();
            print(out, format!("{vendor}'s {} clock in order {order_id} is now due {due}; the vendor is mailed", kind.as_str()))
        }
    }
}

/// The one order `reference` names, or why there is not one.
async fn one_order(app: &App, reference: &str) -> Result<OrderId, String> {
    let mut found = operator::find_orders(app, reference).await.map_err(said)?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!("no order {reference:?}")),
        n => Err(format!("{reference:?} names {n} orders: give the order id")),
    }
}

/// `dropflow sweep`: the SLA sweep, once.
pub(super) async fn sweep(app: &App, now: Option<chrono::DateTime<chrono::Utc>>, out: Out<'_>) -> Result<(), String> {
    let now = now.unwrap_or_else(|| app.clock.now());
    let report = dropflow_shared::services::sweep::sweep(app, now, None).await.map_err(said)?;
    let voided = if report.voided > 0 { format!("; {} lines no vendor sells voided", report.voided) } else { String::new() };
    print(
        out,
        format!(
            "sweep as of {}: {} vendor orders due, {} fired, {} escalations, {} orders' personal data purged{voided}",
            wire::instant(now),
            report.due,
            report.fired,
            report.escalations,
            report.purged
        ),
    )
}

/// `dropflow supplier`: vendors' supplier accounts.
pub(super) async fn supplier(app: &App, action: SupplierAction, out: Out<'_>) -> Result<(), String> {
    use dropflow_shared::services::supplier;
    match action {
        SupplierAction::Connect { vendor_id, supplier: which, api_key, code } => {
            let vendor = VendorId::parse(&vendor_id).map_err(said)?;
            let grant = api_key.or(code).unwrap_or_default();
            let connection = supplier::connect(app, &vendor, which.api(), &grant).await.map_err(said)?;
            let account = connection.account.as_deref().unwrap_or("its account");
            print(
                out,
                format!(
                    "vendor {vendor} connected to {} as {account}; token valid until {}",
                    which.api().display_name(),
                    connection.access_expires_at.to_rfc3339()
                ),
            )
        }
        SupplierAction::List { vendor_id, format } => {
            let vendor = VendorId::parse(&vendor_id).map_err(said)?;
            let mut listing = Listing::new(&["vendor_id", "supplier", "account", "token_expires_at", "refresh_expires_at"]);
            for c in app.tables.supplier_connections(&vendor).await.map_err(said)? {
                let refresh = c.refresh_expires_at.map(|t| t.to_rfc3339());
                listing.row(vec![json!(c.vendor_id), json!(c.api.as_str()), json!(c.account), json!(c.access_expires_at.to_rfc3339()), json!(refresh)]);
            }
            listing.print(format, out)
        }
    }
}

/// `dropflow supplier-sync`: place the due supplier orders and read back the placed, once.
pub(super) async fn supplier_sync(app: &App, now: Option<chrono::DateTime<chrono::Utc>>, out: Out<'_>) -> Result<(), String> {
    let now = now.unwrap_or_else(|| app.clock.now());
    let r = dropflow_shared::services::supplier::sync(app, now, None).await.map_err(said)?;
    print(
        out,
        format!(
            "supplier sync as of {}: {} placed, {} read back, {} parcels shipped, {} delivered, {} handed back to vendors, {} to try again",
            now.to_rfc3339(),
            r.placed,
            r.followed,
            r.shipped,
            r.delivered,
            r.handed_back,
            r.deferred
        ),
    )
}

/// `dropflow reconcile`: read back what the storefronts' webhooks missed, once.
pub(super) async fn reconcile(app: &App, now: Option<chrono::DateTime<chrono::Utc>>, out: Out<'_>) -> Result<(), String> {
    let now = now.unwrap_or_else(|| app.clock.now());
    let report = dropflow_shared::services::reconcile::reconcile(app, now, None).await.map_err(said)?;
    let mut said_of = format!("reconciled {} shops: {} changed orders read, {} queued for intake", report.shops, report.read, report.queued);
    for order in &report.too_large {
        said_of.push_str(&format!("\ntoo large for the intake queue: {order}"));
    }
    for shop in &report.failed {
        said_of.push_str(&format!("\nnot read: {shop}"));
    }
    print(out, said_of)?;
    if report.failed.is_empty() { Ok(()) } else { Err(format!("{} shops could not be read", report.failed.len())) }
}

/// `dropflow retention`: whose personal data is due to be purged.
pub(super) async fn retention(app: &App, within: u32, format: Format, out: Out<'_>) -> Result<(), String> {
    let until = app.clock.now() + chrono::Duration::days(i64::from(within));
    let mut listing = Listing::new(&["due_at", "order_id", "vendor_id"]);
    for (due_at, vo) in dropflow_shared::services::privacy::purges_due(app, until).await.map_err(said)? {
        listing.row(vec![json!(wire::instant(due_at)), json!(vo.order_id), json!(vo.vendor_id)]);
    }
    listing.print(format, out)
}

/// `dropflow payouts …`: release and build payouts, export them, mark them paid.
pub(super) async fn payouts(app: &App, now: Option<chrono::DateTime<chrono::Utc>>, action: Option<PayoutAction>, out: Out<'_>) -> Result<(), String> {
    match action {
        None => {
            let now = now.unwrap_or_else(|| app.clock.now());
            let report = money::run(app, now, None).await.map_err(said)?;
            print(
                out,
                format!(
                    "payouts as of {}: {} earnings released, {} payouts created, {} owed less than the minimum",
                    wire::instant(now),
                    report.released,
                    report.payouts.len(),
                    report.below_minimum
                ),
            )?;
            for payout_id in &report.payouts {
                print(out, format!("payout {payout_id} pending"))?;
            }
            for refused in &report.refused {
                print(out, format!("refused (needs a person): {refused}"))?;
            }
            Ok(())
        }
        Some(PayoutAction::Export { .. }) => export(app, out).await,
        Some(PayoutAction::MarkPaid { payout_id, reference }) => {
            let p = money::mark_paid(app, &payout_id, &reference).await.map_err(said)?;
            print(out, format!("payout {} of {} to {} paid, reference {}", p.payout_id, p.amount, p.vendor_id, p.reference.unwrap_or_default()))
        }
    }
}

/// `dropflow payouts export --csv`: the pending payouts for the payment run; a payout
/// whose vendor has no payee is left out and said on stderr.
async fn export(app: &App, out: Out<'_>) -> Result<(), String> {
    let (csv, left_out) = money::payment_run_csv(app).await.map_err(said)?;
    for payout in left_out {
        let (id, amount) = (&payout.vendor_id, &payout.amount);
        eprintln!(
            "payout {} ({} {}) of vendor {id} not exported: no payee; set one with `dropflow vendor update {id} --payee <account>`",
            payout.payout_id,
            amount.decimal(),
            amount.currency.code(),
        );
    }
    out.write_all(csv.as_bytes()).map_err(said)
}

/// `dropflow dlq …`: what could not be processed, to read, replay or drop.
pub(super) async fn dlq(local: &Local, action: DlqAction, out: Out<'_>) -> Result<(), String> {
    match action {
        DlqAction::List { format } => {
            let mut listing = Listing::new(&["id", "queue", "reason", "bytes", "first_seen"]);
            for letter in dead_letters(local).await? {
                let reason = letter.reason.clone().unwrap_or_else(|| format!("failed {} receives", letter.receive_count));
                listing.row(vec![
                    json!(letter.message_id),
                    json!(letter.queue),
                    json!(reason),
                    json!(letter.body.len()),
                    json!(letter.first_seen.map(wire::instant)),
                ]);
            }
            listing.print(format, out)
        }
        DlqAction::Show { id } => {
            let letter = dead_letters(local).await?.into_iter().find(|l| l.message_id == id).ok_or_else(|| format!("no dead letter {id:?}"))?;
            // A JSON body (every queue's is) pretty-printed; anything else as it is.
            let body = serde_json::from_str::<Value>(&letter.body).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or(letter.body);
            print(out, body)
        }
        DlqAction::Replay { id: Some(id), reason } => {
            let reason = reason.unwrap_or_default();
            let queue = console::replay_dead_letter(&local.app, &id, Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            print(out, format!("dead letter {id} sent back to the {} queue", queue.home().as_str()))
        }
        DlqAction::Replay { id: None, .. } => {
            let mut moved = 0;
            for queue in DeadLetterQueue::ALL {
                moved += local.queues.replay_dead_letters(queue).await.map_err(said)?;
            }
            print(out, format!("{moved} dead letters moved back to their queues"))
        }
        DlqAction::Discard { id, reason } => {
            let queue = console::discard_dead_letter(&local.app, &id, Act { by: CLI, reason: &reason, key: None }).await.map_err(said)?;
            print(out, format!("dead letter {id} of the {} queue discarded: {}", queue.as_str(), reason.trim()))
        }
    }
}

/// Every dead letter of every queue, in `DeadLetterQueue::ALL`'s order.
async fn dead_letters(local: &Local) -> Result<Vec<DeadLetter>, String> {
    let mut letters = Vec::new();
    for queue in DeadLetterQueue::ALL {
        letters.extend(local.queues.dead_letters(queue).await.map_err(said)?);
    }
    Ok(letters)
}

/// `dropflow suppressions …`: the addresses no mail goes to, newest first.
pub(super) async fn suppressions(app: &App, action: Option<SuppressionAction>, out: Out<'_>) -> Result<(), String> {
    let (limit, format) = match action {
        None => (50, Format::default()),
        Some(SuppressionAction::List { limit, format }) => (limit, format),
        Some(SuppressionAction::Remove { email }) => {
            app.tables.unsuppress(&email).await.map_err(said)?;
            return print(out, format!("{email} will be mailed again"));
        }
    };
    let (list, _) = app.tables.suppressions(None, limit.clamp(1, 1000)).await.map_err(said)?;
    let mut listing = Listing::new(&["at", "reason", "email", "detail"]);
    for s in list {
        listing.row(vec![json!(wire::instant(s.at)), json!(s.reason), json!(s.email), json!(s.detail)]);
    }
    listing.print(format, out)
}

/// `dropflow aws bootstrap`: creates the stack's resources and prints the settings a
/// function would be given for them.
pub(super) async fn bootstrap(stack: &str, out: &mut (dyn Write + Send)) -> Result<(), String> {
    use dropflow_shared::adapters::aws::{bootstrap::Bootstrap, sdk_config};
    let config = crate::local_config()?;
    let plan = Bootstrap {
        stack_name: stack.to_string(),
        sender_email: config.sender_email.to_string(),
        visibility_timeout_seconds: None,
        webhook_secrets: config.webhook_secret_values(),
    };
    let resources = plan.run(&sdk_config().await).await?;
    let mut lines = vec![
        format!("TABLE_NAME={}", resources.table_name),
        format!("INTAKE_QUEUE_URL={}", resources.intake_queue_url),
        format!("NOTIFY_QUEUE_URL={}", resources.notify_queue_url),
        format!("STOREFRONT_QUEUE_URL={}", resources.storefront_queue_url),
        format!("RELAY_DLQ_URL={}", resources.relay_dead_letter_queue_url.unwrap_or_default()),
        format!("SENDER_EMAIL={} (SES identity verification requested)", config.sender_email),
    ];
    // The functions are given where each secret is, never the secret.
    for (source, _) in &plan.webhook_secrets {
        let variable = dropflow_shared::sources::SOURCES.iter().find(|s| s.name() == *source).map(|s| s.secret_variable()).unwrap_or_default();
        lines.push(format!("{variable}_ARN={}", dropflow_shared::adapters::aws::webhook_secret_name(stack, source)));
    }
    writeln!(out, "{}", lines.join("\n")).map_err(said)
}

/// An order report as the operator reads it, one fact per line.
fn report_lines(report: &operator::OrderReport) -> Vec<String> {
    let (record, order) = (&report.record, &report.record.order);
    let mut lines = vec![
        format!("order {} {} ({} {}), {}, total {}", order.order_id, order.order_number, order.source, order.shop, record.status.as_str(), order.total),
        format!("customer: {} <{}>", order.customer_name, order.customer_email.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "no email".into())),
        format!(
            "ship to: {}",
            order.shipping_address.as_ref().map(|a| a.lines().join(", ")).or_else(|| order.address_problem.clone()).unwrap_or_else(|| "no address".into())
        ),
    ];
    for (line, reason) in record.unroutable_lines() {
        lines.push(format!(
            "unroutable: {} x {} [{}]: {reason} (line {}: `dropflow order give` or `order void` ends its wait)",
            line.quantity,
            line.title,
            line.sku.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "no SKU".into()),
            line.line_id
        ));
    }
    for void in &record.void_lines {
        let title = order.lines.iter().find(|l| l.line_id == void.line_id).map_or("?", |l| l.title.as_str());
        lines.push(format!(
            "void since {}: {title} (line {}): {}; the customer was told it will be refunded",
            wire::instant(void.at),
            void.line_id,
            void.reason
        ));
    }
    for refund in &record.unassigned_refunds {
        lines.push(format!(
            "refund to split: {} {} ({})",
            refund.refund_id,
            refund.amount.map(|m| m.to_string()).unwrap_or_else(|| "amount unknown".into()),
            refund.reason
        ));
    }
    for (vo, history) in &report.vendor_orders {
        lines.push(format!("vendor order {} ({}): {}", vo.id(), vo.vendor_id, vo.state.as_str()));
        for clock in &vo.clocks {
            lines.push(format!("  clock {} due {}", clock.kind.as_str(), wire::instant(clock.due_at)));
        }
        for entry in history {
            lines.push(format!(
                "  {} {} {}{}",
                wire::instant(entry.at),
                entry.action,
                entry.state.as_str(),
                entry.detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
            ));
        }
    }
    for mail in &report.mail {
        lines.push(format!("mail {} {} -> {} (event {})", wire::instant(mail.at), mail.event_type, mail.to, mail.event_id));
    }
    for (number, state) in &report.write_backs {
        lines.push(format!("storefront parcel {number}: {state}"));
    }
    lines
}

/// `dropflow scorecards`: each vendor's measures (one line per vendor and measure), or
/// `backfill` to rebuild their counters.
pub(super) async fn scorecards(app: &App, vendor: Option<String>, action: Option<ScorecardAction>, format: Format, out: Out<'_>) -> Result<(), String> {
    use dropflow_shared::services::scorecards;
    let vendors = match vendor {
        Some(id) => vec![VendorId::parse(&id).map_err(said)?],
        None => operator::list_vendors(app).await.map_err(said)?.into_iter().map(|v| v.vendor_id).collect(),
    };
    if let Some(ScorecardAction::Backfill) = action {
        for vendor in vendors {
            let counted = scorecards::backfill(app, &vendor).await.map_err(said)?;
            print(out, format!("{vendor}: counters rebuilt from {counted} vendor orders"))?;
        }
        return Ok(());
    }
    let mut listing = Listing::new(&["vendor", "measure", "value", "numerator", "denominator", "window_days", "target", "state"]);
    for vendor in vendors {
        let card = scorecards::read(app, &vendor).await.map_err(said)?;
        for (measure, r) in &card.measures {
            let value = r.value.map(|v| format!("{v:.4}"));
            listing.row(vec![
                json!(vendor),
                json!(measure.as_str()),
                json!(value),
                json!(r.numerator),
                json!(r.denominator),
                json!(r.window_days),
                json!(r.target),
                json!(r.standing.as_str()),
            ]);
        }
    }
    listing.print(format, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(listing: Listing, json: bool) -> String {
        let mut out = Vec::new();
        listing.print(Format { json }, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn hostile() -> Listing {
        let mut listing = Listing::new(&["vendor_id", "name", "payee"]);
        listing.row(vec![json!("acme"), json!("Acme\tInc\nevil\t1\t2"), Value::Null]);
        listing
    }

    #[test]
    fn a_listing_has_a_header_and_a_cell_cannot_forge_a_column_or_a_row() {
        assert_eq!(printed(hostile(), false), "vendor_id\tname\tpayee\nacme\tAcme Inc evil 1 2\t-\n");
    }

    #[test]
    fn a_json_listing_is_one_array_of_objects_keyed_by_the_header_with_values_as_they_are() {
        let parsed: Value = serde_json::from_str(&printed(hostile(), true)).unwrap();
        assert_eq!(parsed, json!([{ "vendor_id": "acme", "name": "Acme\tInc\nevil\t1\t2", "payee": null }]));
    }
}
