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

/// Runs the demo, printing to `out`.
pub async fn run(out: &mut (dyn Write + Send)) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(failed)?;
    let local = Local::open(dir.path())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(failed)?;
    let base = format!("http://{}", listener.local_addr().map_err(failed)?);
    let router = local.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = local.app.clone();
    let mut demo = Demo { out, client: Client::new(), base, local, outbox: dir.path() };
    let mut seen = 0;

    demo.say(&format!("dropflow demo on a fresh data dir ({})", dir.path().display()))?;
    demo.say("1. The operator onboards a vendor, gives it an API key and maps its SKUs")?;
    use dropflow_shared::services::operator::{self, ProductInput};
    operator::add_vendor(&app, "lumen-home", "Lumen Home", "orders@lumen-home.example", None, None).await.map_err(failed)?;
    let key = operator::create_key(&app, "lumen-home").await.map_err(failed)?;
    for (sku, supplier, url, cost, variant) in [
        ("LAMP-MOON-15", "AliExpress: Shenzhen Glow Store", "https://www.aliexpress.com/item/1005001234567890.html", "11.20", Some("15cm / warm light")),
        ("CABLE-USBC-2M", "CJ Dropshipping", "https://cjdropshipping.com/product/usb-c-cable-2m-p-1234.html", "1.85", None),
    ] {
        let input = ProductInput { force: false, sku, vendor_id: "lumen-home", supplier_name: supplier, product_url: url, cost, currency: "EUR", variant };
        operator::add_product(&app, input).await.map_err(failed)?;
    }
    demo.say(&format!("   vendor lumen-home, key {}…, 2 SKUs mapped", &key[..12]))?;

    demo.say("2. The storefront sends a signed orders/paid webhook")?;
    let secret = app.config.secrets("shopify").first().cloned().unwrap_or_default();
    let signature = dropflow_shared::services::webhook::signature(&secret, ORDER.as_bytes());
    let response = demo
        .client
        .post(format!("{}/webhooks/shopify", demo.base))
        .header("X-Shopify-Hmac-Sha256", signature)
        .header("X-Shopify-Topic", "orders/paid")
        .header("X-Shopify-Shop-Domain", "demo-store.myshopify.com")
        .body(ORDER)
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    demo.say(&format!("   POST /webhooks/shopify -> {status}"))?;
    demo.local.drain().await?;
    demo.show_new_mail(&mut seen).await?;

    demo.say("3. The vendor lists its orders and reads the new one")?;
    let list = demo.request(reqwest::Method::GET, "/vendor/orders", Some(&key), None).await?;
    let id = list["orders"][0]["id"].as_str().ok_or_else(|| failed("no order listed"))?.to_string();
    let order = demo.request(reqwest::Method::GET, &format!("/vendor/orders/{id}"), Some(&key), None).await?;
    demo.say(&format!("   order {} is {}, order from the supplier by {}", order["order_number"], order["state"], order["supplier_deadline"]))?;

    demo.say("4. The vendor records the supplier order, then the tracking number")?;
    demo.request(reqwest::Method::POST, &format!("/vendor/orders/{id}/supplier-order"), Some(&key), Some(json!({"supplier_order_ref": "AE-8155-2231"})))
        .await?;
    let bad = demo
        .client
        .post(format!("{}/vendor/orders/{id}/shipment", demo.base))
        .bearer_auth(&key)
        .json(&json!({"tracking_number": "RB123456786GB"}))
        .send()
        .await
        .map_err(failed)?;
    let status = bad.status();
    let problem: Value = bad.json().await.unwrap_or(Value::Null);
    demo.say(&format!("   a mistyped number is refused: {status}: {}", problem["detail"]))?;
    let shipped =
        demo.request(reqwest::Method::POST, &format!("/vendor/orders/{id}/shipment"), Some(&key), Some(json!({"tracking_number": "RB123456785GB"}))).await?;
    demo.say(&format!("   shipped with {} {}", shipped["tracking"]["carrier"], shipped["tracking"]["number"]))?;
    demo.show_new_mail(&mut seen).await?;

    demo.say("5. The parcel arrives; the vendor marks it delivered")?;
    demo.request(reqwest::Method::POST, &format!("/vendor/orders/{id}/delivered"), Some(&key), None).await?;
    demo.show_new_mail(&mut seen).await?;
    let order = demo.request(reqwest::Method::GET, &format!("/vendor/orders/{id}"), Some(&key), None).await?;
    let steps: Vec<String> = order["history"].as_array().into_iter().flatten().map(|h| h["action"].as_str().unwrap_or("?").to_string()).collect();
    demo.say(&format!("   history: {}", steps.join(" -> ")))?;
    demo.say("done: every mail above is in the outbox as an .eml file")?;
    Ok(())
}
