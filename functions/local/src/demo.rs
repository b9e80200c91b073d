//! `dropflow demo`: one order's whole life on a fresh data dir, through the same HTTP
//! surface a storefront and a vendor use, printed step by step.

use crate::Local;
use reqwest::Client;
use serde_json::{Value, json};
use std::io::Write;

const ORDER: &str = include_str!("../demo/shopify-order.json");

struct Demo<'a> {
    out: &'a mut (dyn Write + Send),
    client: Client,
    base: String,
    local: Local,
    outbox: &'a std::path::Path,
}

fn failed(e: impl std::fmt::Display) -> String {
    format!("demo failed: {e}")
}

impl Demo<'_> {
    fn say(&mut self, text: &str) -> Result<(), String> {
        writeln!(self.out, "{text}").map_err(failed)
    }

    async fn request(&mut self, method: reqwest::Method, path: &str, key: Option<&str>, body: Option<Value>) -> Result<Value, String> {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        self.say(&format!("   {method} {path} -> {status}"))?;
        if !status.is_success() {
            return Err(failed(format!("{path} answered {status}: {value}")));
        }
        self.local.drain().await?;
        Ok(value)
    }

    /// Posts a Shopify webhook of `topic`, signed with the shop's secret, and delivers it.
    async fn shopify(&mut self, topic: &str, body: &str) -> Result<(), String> {
        let secret = self.local.app.config.secrets("shopify").first().cloned().unwrap_or_default();
        let signature = dropflow_shared::services::webhook::signature(&secret, body.as_bytes());
        let request = self.client.post(format!("{}/webhooks/shopify", self.base)).header("X-Shopify-Hmac-Sha256", signature);
        let request = request.header("X-Shopify-Topic", topic).header("X-Shopify-Shop-Domain", "demo-store.myshopify.com");
        let status = request.body(body.to_string()).send().await.map_err(failed)?.status();
        self.say(&format!("   POST /webhooks/shopify ({topic}) -> {status}"))?;
        self.local.drain().await.map(drop)
    }

    async fn show_new_mail(&mut self, seen: &mut usize) -> Result<(), String> {
        let mail = dropflow_shared::adapters::embedded::list_outbox(self.outbox).map_err(failed)?;
        for entry in &mail[*seen..] {
            let text = format!("   mail to {}: {}", entry.to, entry.subject);
            self.say(&text)?;
        }
        *seen = mail.len();
        Ok(())
    }
}

/// Runs the demo on `data_dir`, which must hold no dropflow data yet, printing to
/// `out`; the data dir is kept, to look at afterwards.
pub async fn run(data_dir: &std::path::Path, out: &mut (dyn Write + Send)) -> Result<(), String> {
    if data_dir.join("dropflow.db").exists() {
        return Err(format!("{} holds dropflow data: the demo plays on a fresh data dir (e.g. dropflow --data-dir ./dropflow-demo demo)", data_dir.display()));
    }
    let local = Local::open(data_dir)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(failed)?;
    let base = format!("http://{}", listener.local_addr().map_err(failed)?);
    let router = local.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut demo = Demo { out, client: Client::new(), base, local, outbox: data_dir };
    let mut seen = 0;
    demo.say(&format!("dropflow demo on a fresh data dir ({})", data_dir.display()))?;
    let key = onboard(&mut demo).await?;
    let id = order_and_fulfil(&mut demo, &key, &mut seen).await?;
    money(&mut demo, &key, &mut seen).await?;
    let order = demo.request(reqwest::Method::GET, &format!("/vendor/orders/{id}"), Some(&key), None).await?;
    let steps: Vec<String> = order["history"].as_array().into_iter().flatten().map(|h| h["action"].as_str().unwrap_or("?").to_string()).collect();
    demo.say(&format!("   history: {}", steps.join(" -> ")))?;
    let dir = data_dir.display();
    demo.say(&format!("done. The data dir is kept: {dir}"))?;
    demo.say(&format!("   every mail above is an .eml file in {dir}/outbox"))?;
    demo.say(&format!("   `dropflow --data-dir {dir} order show '#9001'` shows the order whole"))?;
    demo.say(&format!("   `dropflow --data-dir {dir} serve`, then http://127.0.0.1:3000/vendor/app with the key {key}"))?;
    Ok(())
}

/// 1. The operator onboards a vendor, gives it a key and maps its two SKUs; the key.
async fn onboard(demo: &mut Demo<'_>) -> Result<String, String> {
    use dropflow_shared::services::operator::{self, ProductInput};
    let app = demo.local.app.clone();
    demo.say("1. The operator onboards a vendor, gives it an API key and maps its SKUs")?;
    operator::add_vendor(&app, "lumen-home", "Lumen Home", "orders@lumen-home.example", None, Some("IBAN PT50 0002 0123 1234 5678 9015 4"))
        .await
        .map_err(failed)?;
    let key = operator::create_key(&app, "lumen-home").await.map_err(failed)?;
    for (sku, supplier, url, cost, variant) in [
        ("LAMP-MOON-15", "AliExpress: Shenzhen Glow Store", "https://www.aliexpress.com/item/1005001234567890.html", "11.20", Some("15cm / warm light")),
        ("CABLE-USBC-2M", "CJ Dropshipping", "https://cjdropshipping.com/product/usb-c-cable-2m-p-1234.html", "1.85", None),
    ] {
        let input = ProductInput {
            force: false,
            automation: Default::default(),
            sku,
            vendor_id: "lumen-home",
            supplier_name: supplier,
            product_url: url,
            cost,
            currency: "EUR",
            variant,
        };
        operator::add_product(&app, input).await.map_err(failed)?;
    }
    demo.say(&format!("   vendor lumen-home, key {}…, 2 SKUs mapped", &key[..12]))?;
    Ok(key)
}

/// 2-6. The order comes, the vendor orders it, the store refunds a cable, the parcel
/// ships and arrives; the vendor order's id.
async fn order_and_fulfil(demo: &mut Demo<'_>, key: &str, seen: &mut usize) -> Result<String, String> {
    demo.say("2. The storefront sends a signed orders/paid webhook")?;
    demo.shopify("orders/paid", ORDER).await?;
    demo.show_new_mail(seen).await?;

    demo.say("3. The vendor lists its orders and reads the new one")?;
    let list = demo.request(reqwest::Method::GET, "/vendor/orders", Some(key), None).await?;
    let id = list["orders"][0]["id"].as_str().ok_or_else(|| failed("no order listed"))?.to_string();
    let order = demo.request(reqwest::Method::GET, &format!("/vendor/orders/{id}"), Some(key), None).await?;
    demo.say(&format!("   order {} is {}, order from the supplier by {}", order["order_number"], order["state"], order["supplier_deadline"]))?;

    demo.say("4. The vendor records the supplier order")?;
    demo.request(reqwest::Method::POST, &format!("/vendor/orders/{id}/supplier-order"), Some(key), Some(json!({"supplier_order_ref": "AE-8155-2231"}))).await?;

    demo.say("5. The store refunds one of the two cables (a goodwill discount)")?;
    let refund = json!({"id": 930001, "order_id": 820982911946154508_u64, "refund_line_items": [{"line_item_id": 10002, "quantity": 1, "subtotal": "12.45"}]});
    demo.shopify("refunds/create", &refund.to_string()).await?;
    demo.show_new_mail(seen).await?;

    demo.say("6. The vendor ships (a mistyped number is refused first), the parcel arrives")?;
    let bad = demo.client.post(format!("{}/vendor/orders/{id}/shipment", demo.base)).bearer_auth(key).json(&json!({"tracking_number": "RB123456786GB"}));
    let bad = bad.send().await.map_err(failed)?;
    let status = bad.status();
    let problem: Value = bad.json().await.unwrap_or(Value::Null);
    demo.say(&format!("   a mistyped number is refused: {status}: {}", problem["detail"]))?;
    let shipment = Some(json!({"tracking_number": "RB123456785GB"}));
    let shipped = demo.request(reqwest::Method::POST, &format!("/vendor/orders/{id}/shipment"), Some(key), shipment).await?;
    demo.say(&format!("   shipped with {} {}", shipped["tracking"]["carrier"], shipped["tracking"]["number"]))?;
    demo.show_new_mail(seen).await?;
    demo.request(reqwest::Method::POST, &format!("/vendor/orders/{id}/delivered"), Some(key), None).await?;
    demo.show_new_mail(seen).await?;
    Ok(id)
}

/// 7-8. The hold ends and the payout run pays the vendor; the operator marks it paid.
async fn money(demo: &mut Demo<'_>, key: &str, seen: &mut usize) -> Result<(), String> {
    use dropflow_shared::services::money;
    let app = demo.local.app.clone();
    let later = app.clock.now() + chrono::Duration::days(i64::from(app.config.holding_days) + 1);
    demo.say(&format!("7. {} days later: the sweep, then the daily payout run", app.config.holding_days + 1))?;
    let swept = dropflow_shared::services::sweep::sweep(&app, later, None).await.map_err(failed)?;
    demo.say(&format!("   sweep: {} clocks fired", swept.fired))?;
    let report = money::run(&app, later, None).await.map_err(failed)?;
    demo.local.drain().await?;
    demo.say(&format!("   payout run: {} earnings released, {} payouts created", report.released, report.payouts.len()))?;
    demo.show_new_mail(seen).await?;
    let balance = demo.request(reqwest::Method::GET, "/vendor/balance", Some(key), None).await?;
    demo.say(&format!("   the vendor's balance: {}", balance["balances"]))?;

    demo.say("8. The operator transfers the payout and marks it paid")?;
    for payout_id in &report.payouts {
        let paid = money::mark_paid(&app, payout_id, "SEPA-DEMO-0001").await.map_err(failed)?;
        demo.say(&format!("   payout {} of {} paid, reference {}", paid.payout_id, paid.amount, paid.reference.unwrap_or_default()))?;
    }
    demo.local.drain().await?;
    demo.show_new_mail(seen).await
}
