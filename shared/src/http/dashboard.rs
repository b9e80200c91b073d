//! `GET /vendor/app`: the vendor dashboard, and `GET /operator/app`: the operator
//! console, each one page with its script (and the script both share) and stylesheet,
//! embedded in the binary at build time (no build step, no CDN). The page is a client of
//! the vendor API and nothing more: it holds the key in the tab's `sessionStorage`,
//! calls the same `/vendor/*` routes a vendor's tools call, and puts every value it gets
//! into the page as text. The Content-Security-Policy allows only dropflow's own
//! script, styles and API, so that even a mistake in the page cannot run markup an
//! order brought in.

use super::problem::Problem;
use crate::services::App;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The page both are (filled in by `Page`), their scripts and their styles, as served.
const PAGE: &str = include_str!("dashboard/page.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLES: &str = include_str!("dashboard/app.css");
/// What both pages' scripts import: the frame, the API client, text-only building.
const COMMON: &str = include_str!("dashboard/common.js");
/// The operator console's script.
const CONSOLE_SCRIPT: &str = include_str!("dashboard/console.js");

/// What makes the one page the vendor dashboard or the operator console: dropflow's
/// own text and markup (the store's name is the only value from outside, put in as text).
struct Page {
    what: &'static str,
    tagline: &'static str,
    script: &'static str,
    /// (section, label) of the nav, the first the default.
    nav: &'static [(&'static str, &'static str)],
    key_label: &'static str,
    /// The sign-in hint (markup: dropflow's own).
    hint: &'static str,
    noscript: &'static str,
}

const DASHBOARD: Page = Page {
    what: "vendor dashboard",
    tagline: "for vendors",
    script: "app.js",
    nav: &[("orders", "Orders"), ("products", "Products"), ("suppliers", "Suppliers"), ("money", "Money"), ("scorecard", "Scorecard")],
    key_label: "API key",
    hint: "Your marketplace operator gives you the key (<code>dropflow key create</code>). This tab keeps it until you sign out or close the tab; it is never put in a link or a cookie.",
    noscript: "The dashboard needs JavaScript. The same API answers at /vendor/orders with your key.",
};

const CONSOLE: Page = Page {
    what: "operator console",
    tagline: "operator console",
    script: "console.js",
    nav: &[
        ("queue", "Decisions"),
        ("orders", "Orders"),
        ("vendors", "Vendors"),
        ("scorecards", "Scorecards"),
        ("payouts", "Payouts"),
        ("dead-letters", "Dead letters"),
    ],
    key_label: "Operator key",
    hint: "An operator key comes from <code>dropflow operator key create &lt;NAME&gt;</code>; a vendor's key does not open the console. This tab keeps the key until you sign out or close the tab; it is never put in a link or a cookie.",
    noscript: "The console needs JavaScript. The same API answers at /operator/orders with an operator key.",
};

impl Page {
    /// The page under the marketplace's name (`STORE_NAME`, escaped: it is text here).
    fn render(&self, store_name: &str) -> String {
        let nav: String = self.nav.iter().map(|(section, label)| format!("    <a href=\"#{section}\" data-section=\"{section}\">{label}</a>\n")).collect();
        PAGE.replace("{{what}}", self.what)
            .replace("{{tagline}}", self.tagline)
            .replace("{{script}}", self.script)
            .replace("{{nav}}", &nav)
            .replace("{{key_label}}", self.key_label)
            .replace("{{hint}}", self.hint)
            .replace("{{noscript}}", self.noscript)
            .replace("{{store}}", &html_escape::encode_text(store_name))
    }
}

/// Only dropflow's own script, styles and API; no inline code, no frames, no forms
/// submitted by the browser itself (the script sends them, so a key never lands in a URL).
const POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The dashboard's routes: the page under `/vendor/app` (relative links, so that it works
/// under any API Gateway stage prefix), and its two assets beside it.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/vendor/app", get(|State(app): State<App>| async move { asset("text/html; charset=utf-8", DASHBOARD.render(&app.config.store_name)) }))
        .route("/vendor/app/", get(|| async { Redirect::permanent("../app") }))
        .route("/vendor/app/app.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/vendor/app/app.css", get(|| async { asset("text/css; charset=utf-8", STYLES) }))
        .route("/vendor/app/common.js", get(|| async { asset("text/javascript; charset=utf-8", COMMON) }))
        .route("/vendor/app/{*rest}", get(|| async { Problem::new(StatusCode::NOT_FOUND, "no such page") }))
}

/// The operator console's routes, as the dashboard's: a static page whose sign-in is
/// inside it (no key opens the page; the key opens the API behind it).
pub fn console_routes() -> Router<App> {
    Router::new()
        .route("/operator/app", get(|State(app): State<App>| async move { asset("text/html; charset=utf-8", CONSOLE.render(&app.config.store_name)) }))
        .route("/operator/app/", get(|| async { Redirect::permanent("../app") }))
        .route("/operator/app/console.js", get(|| async { asset("text/javascript; charset=utf-8", CONSOLE_SCRIPT) }))
        .route("/operator/app/common.js", get(|| async { asset("text/javascript; charset=utf-8", COMMON) }))
        .route("/operator/app/app.css", get(|| async { asset("text/css; charset=utf-8", STYLES) }))
        .route("/operator/app/{*rest}", get(|| async { Problem::new(StatusCode::NOT_FOUND, "no such page") }))
}

/// One embedded file with the headers every part of the page is served with.
fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        // Revalidated on each visit, so that a deploy shows at once; the files are small.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ];
    (headers, body.into()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_nothing_from_outside_and_runs_no_inline_code() {
        let (dashboard, console) = (DASHBOARD.render("Store"), CONSOLE.render("Store"));
        let files = [
            ("dashboard", dashboard.as_str()),
            ("app.js", SCRIPT),
            ("app.css", STYLES),
            ("common.js", COMMON),
            ("console", &console),
            ("console.js", CONSOLE_SCRIPT),
        ];
        for (name, text) in files {
            assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"), "{name} loads nothing from elsewhere");
        }
        for page in [&dashboard, &console] {
            assert!(!page.contains("{{"), "every blank filled");
            assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style: the policy would block them");
            assert!(page.contains(r#"name="api_key""#), "the sign-in field");
        }
    }

    #[test]
    fn the_page_wears_the_stores_name_as_text() {
        let shown = DASHBOARD.render("Lumen & <b>Co</b>");
        assert!(shown.contains("<title>Lumen &amp; &lt;b&gt;Co&lt;/b&gt; · vendor dashboard</title>"), "{shown}");
        assert!(!shown.contains("<b>") && !shown.contains("{{store}}"));
    }

    #[test]
    fn the_script_never_writes_markup() {
        for (name, script) in [("app.js", SCRIPT), ("common.js", COMMON), ("console.js", CONSOLE_SCRIPT)] {
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
                assert!(!script.contains(sink), "{name} uses {sink}: every value goes in as text");
            }
            assert!(!script.contains("localStorage") && !script.contains("document.cookie"), "{name}: the key lives in sessionStorage only");
        }
    }
}
