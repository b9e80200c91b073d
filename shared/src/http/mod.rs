//! The HTTP surface: storefront webhooks and the vendor REST API, as axum routers that
//! `lambda_http` runs in AWS (each function only its own) and the local binary serves
//! together on a port.

mod dashboard;
#[cfg(feature = "openapi")]
pub mod examples;
pub mod openapi;
mod operator;
pub mod operator_wire;
mod problem;
mod status;
mod supplier_accounts;
mod vendor;
mod webhooks;
pub mod wire;

pub use problem::Problem;

use crate::services::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;

/// Largest accepted request body; storefront orders are far smaller.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every route of DESIGN's HTTP contracts and the vendor dashboard (the local binary
/// serves them all).
pub fn router(app: App) -> Router {
    finish(
        webhook_routes().merge(vendor_routes()).merge(dashboard::routes()).merge(status_routes()).merge(operator_routes()).merge(dashboard::console_routes()),
        app,
    )
}

/// operator-api's routes only: the operator API and its console page.
pub fn operator_router(app: App) -> Router {
    finish(operator_routes().merge(dashboard::console_routes()), app)
}

/// order-status's routes only: the customer's page and its JSON, read-only.
pub fn status_router(app: App) -> Router {
    finish(status_routes(), app)
}

/// order-webhook's routes only: it answers no vendor route.
pub fn webhook_router(app: App) -> Router {
    finish(webhook_routes(), app)
}

/// vendor-api's routes only (the API and its dashboard page): it takes no webhook.
pub fn vendor_router(app: App) -> Router {
    finish(vendor_routes().merge(dashboard::routes()), app)
}

/// The problem+json fallback and the body limit every router shares.
fn finish(routes: Router<App>, app: App) -> Router {
    routes
        .fallback(|| async { Problem::new(axum::http::StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async { Problem::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// Defines a router function and the list of its (method, path) routes from one table,
/// so that the OpenAPI check knows every route there is.
macro_rules! routes {
    ($router:ident, $list:ident, $($method:ident $path:literal => $handler:path,)+) => {
        /// Every (method, path) this router answers.
        pub const $list: &[(&str, &str)] = &[$((stringify!($method), $path)),+];
        fn $router() -> Router<App> {
            Router::new()$(.route($path, axum::routing::$method($handler)))+
        }
    };
}

routes!(webhook_routes, WEBHOOK_ROUTES,
    post "/webhooks/{source}" => webhooks::receive,
    post "/webhooks/tracking/{provider}" => webhooks::receive_tracking,
    post "/webhooks/supplier/{supplier}" => webhooks::receive_supplier,
);

routes!(status_routes, STATUS_ROUTES,
    get "/status/{token}" => status::serve,
);

routes!(operator_routes, OPERATOR_ROUTES,
    get "/operator/me" => operator::me,
    get "/operator/orders" => operator::orders,
    get "/operator/orders/{id}" => operator::order,
    post "/operator/orders/{id}/give" => operator::give,
    post "/operator/orders/{id}/void" => operator::void,
    post "/operator/orders/{id}/address" => operator::address,
    post "/operator/orders/{id}/extend" => operator::extend,
    post "/operator/orders/{id}/resend" => operator::resend,
    get "/operator/vendors" => operator::vendors,
    post "/operator/vendors/{id}/hold" => operator::hold,
    post "/operator/vendors/{id}/release" => operator::release,
    get "/operator/vendors/{id}" => operator::vendor,
    post "/operator/vendors/{id}/suspend" => operator::suspend,
    post "/operator/vendors/{id}/resume" => operator::resume,
    post "/operator/products/{sku}/approve" => operator::approve,
    post "/operator/products/{sku}/refuse" => operator::refuse,
    get "/operator/dead-letters" => operator::dead_letters,
    get "/operator/dead-letters/{id}" => operator::dead_letter,
    post "/operator/dead-letters/{id}/replay" => operator::replay,
    post "/operator/dead-letters/{id}/discard" => operator::discard,
    get "/operator/queue" => operator::queue,
    get "/operator/scorecards" => operator::scorecards,
    get "/operator/payouts" => operator::payouts,
    get "/operator/payouts/export" => operator::export_payouts,
    post "/operator/payouts/run" => operator::run_payouts,
    post "/operator/payouts/{id}/paid" => operator::mark_paid,
);

routes!(vendor_routes, VENDOR_ROUTES,
    get "/vendor/orders" => vendor::list_orders,
    get "/vendor/orders/{id}" => vendor::get_order,
    post "/vendor/orders/{id}/supplier-order" => vendor::supplier_order,
    post "/vendor/orders/{id}/supplier-order/confirm" => vendor::supplier_confirm,
    post "/vendor/orders/{id}/supplier-order/retry" => vendor::supplier_retry,
    post "/vendor/orders/{id}/supplier-order/manual" => vendor::supplier_manual,
    post "/vendor/orders/{id}/shipment" => vendor::shipment,
    put "/vendor/orders/{id}/shipments/{number}" => vendor::correct_shipment,
    post "/vendor/orders/{id}/delivered" => vendor::delivered,
    post "/vendor/orders/{id}/cancel" => vendor::cancel,
    get "/vendor/products" => vendor::list_products,
    get "/vendor/products/{sku}" => vendor::get_product,
    put "/vendor/products/{sku}" => vendor::put_product,
    delete "/vendor/products/{sku}" => vendor::delete_product,
    get "/vendor/suppliers" => supplier_accounts::list,
    post "/vendor/suppliers/cj" => supplier_accounts::connect_cj,
    post "/vendor/suppliers/aliexpress/authorize" => supplier_accounts::authorize_aliexpress,
    get "/vendor/suppliers/aliexpress/callback" => supplier_accounts::aliexpress_callback,
    get "/vendor/balance" => vendor::balance,
    get "/vendor/payouts" => vendor::payouts,
    get "/vendor/scorecard" => vendor::scorecard,
    get "/openapi.json" => openapi::serve,
);
