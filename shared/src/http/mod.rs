//! The HTTP surface: storefront webhooks and the vendor REST API, as axum routers that
//! `lambda_http` runs in AWS (each function only its own) and the local binary serves
//! together on a port.

mod problem;
mod vendor;
mod webhooks;
pub mod wire;

pub use problem::Problem;

use crate::services::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Largest accepted request body; storefront orders are far smaller.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every route of DESIGN's HTTP contracts (the local binary serves them all).
pub fn router(app: App) -> Router {
    finish(webhook_routes().merge(vendor_routes()), app)
}

/// order-webhook's routes only: it answers no vendor route.
pub fn webhook_router(app: App) -> Router {
    finish(webhook_routes(), app)
}

/// vendor-api's routes only: it takes no webhook.
pub fn vendor_router(app: App) -> Router {
    finish(vendor_routes(), app)
}

/// The problem+json fallback and the body limit every router shares.
fn finish(routes: Router<App>, app: App) -> Router {
    routes
        .fallback(|| async { Problem::new(axum::http::StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async { Problem::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

fn webhook_routes() -> Router<App> {
    Router::new().route("/webhooks/{source}", post(webhooks::receive))
}

fn vendor_routes() -> Router<App> {
    Router::new()
        .route("/vendor/orders", get(vendor::list_orders))
        .route("/vendor/orders/{id}", get(vendor::get_order))
        .route("/vendor/orders/{id}/supplier-order", post(vendor::supplier_order))
        .route("/vendor/orders/{id}/shipment", post(vendor::shipment))
        .route("/vendor/orders/{id}/delivered", post(vendor::delivered))
        .route("/vendor/orders/{id}/cancel", post(vendor::cancel))
        .route("/vendor/products", get(vendor::list_products))
        .route("/vendor/products/{sku}", get(vendor::get_product).put(vendor::put_product).delete(vendor::delete_product))
        .route("/vendor/balance", get(vendor::balance))
        .route("/vendor/payouts", get(vendor::payouts))
}
