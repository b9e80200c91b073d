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

/// The page, its script and its styles, as served.
const PAGE: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLES: &str = include_str!("dashboard/app.css");
/// What both pages' scripts import: the frame, the API client, text-only building.
const COMMON: &str = include_str!("dashboard/common.js");
/// The operator console's page and script.
const CONSOLE_PAGE: &str = include_str!("dashboard/console.html");
const CONSOLE_SCRIPT: &str = include_str!("dashboard/console.js");

/// Only dropflow's own script, styles and API; no inline code, no frames, no forms
/// submitted by the browser itself (the script sends them, so a key never lands in a URL).
const POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The dashboard's routes: the page under `/vendor/app` (relative links, so that it works
/// under any API Gateway stage prefix), and its two assets beside it.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/vendor/app", get(|State(app): State<App>| async move { asset("text/html; charset=utf-8", page(&app.config.store_name)) }))
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
        .route("/operator/app", get(|State(app): State<App>| async move { asset("text/html; charset=utf-8", named(CONSOLE_PAGE, &app.config.store_name)) }))
        .route("/operator/app/", get(|| async { Redirect::permanent("../app") }))
        .route("/operator/app/console.js", get(|| async { asset("text/javascript; charset=utf-8", CONSOLE_SCRIPT) }))
        .route("/operator/app/common.js", get(|| async { asset("text/javascript; charset=utf-8", COMMON) }))
        .route("/operator/app/app.css", get(|| async { asset("text/css; charset=utf-8", STYLES) }))
        .route("/operator/app/{*rest}", get(|| async { Problem::new(StatusCode::NOT_FOUND, "no such page") }))
}

/// The page, under the marketplace's name (`STORE_NAME`, escaped: it is text here).
fn page(store_name: &str) -> String {
    named(PAGE, store_name)
}

/// `template` with the marketplace's name put in as text.
fn named(template: &str, store_name: &str) -> String {
    template.replace("{{store}}", &html_escape::encode_text(store_name))
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
        for (name, text) in [
            ("index.html", PAGE),
            ("app.js", SCRIPT),
            ("app.css", STYLES),
            ("common.js", COMMON),
            ("console.html", CONSOLE_PAGE),
            ("console.js", CONSOLE_SCRIPT),
        ] {
            assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"), "{name} loads nothing from elsewhere");
        }
        for page in [PAGE, CONSOLE_PAGE] {
            assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style: the policy would block them");
            assert!(page.contains(r#"name="api_key""#), "the sign-in field");
        }
    }

    #[test]
    fn the_page_wears_the_stores_name_as_text() {
        let shown = page("Lumen & <b>Co</b>");
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
