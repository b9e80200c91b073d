//! The one HTTP surface: storefront webhooks and the vendor REST API, as an axum router
//! that `lambda_http` runs in AWS and the local binary serves on a port.

mod problem;
mod vendor;
mod webhooks;

pub use problem::Problem;

use crate::services::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Largest accepted request body; storefront orders are far smaller.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every route of DESIGN's HTTP contracts.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/webhooks/{source}", post(webhooks::receive))
        .route("/vendor/orders", get(vendor::list_orders))
        .route("/vendor/orders/{id}", get(vendor::get_order))
        .route("/vendor/orders/{id}/supplier-order", post(vendor::supplier_order))
        .route("/vendor/orders/{id}/shipment", post(vendor::shipment))
        .route("/vendor/orders/{id}/delivered", post(vendor::delivered))
        .route("/vendor/orders/{id}/cancel", post(vendor::cancel))
        .fallback(|| async { Problem::new(axum::http::StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}
