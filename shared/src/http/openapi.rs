//! `GET /openapi.json`: the OpenAPI 3.1 document of the vendor API and the webhooks.
//! It is generated from the code (`utoipa`, feature `openapi`) by the test that keeps
//! `shared/openapi.json` current, and served as that file: the functions carry the
//! document, not the generator.

use axum::http::header;
use axum::response::IntoResponse;

/// The document as served.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

/// Serves the document.
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

/// The document generated from the handlers and wire types.
#[cfg(feature = "openapi")]
pub fn generate() -> String {
    use super::{problem, vendor, webhooks, wire};
    use utoipa::OpenApi;

    struct Security;
    impl utoipa::Modify for Security {
        fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
            use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
            let components = openapi.components.get_or_insert_with(Default::default);
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("A vendor API key from `dropflow key create`")).build(),
                ),
            );
        }
    }

    #[derive(OpenApi)]
    #[openapi(
        servers((url = "/", description = "The server that served this document: `dropflow serve` (http://127.0.0.1:3000) or the deployed stack's ApiUrl")),
        info(title = "dropflow", description = "The vendor API and the storefront webhooks of dropflow. Money is {\"amount\": \"199.00\", \"currency\": \"USD\"}, exact; instants are RFC 3339 UTC to the second; errors are application/problem+json."),
        paths(
            vendor::list_orders, vendor::get_order, vendor::supplier_order, vendor::shipment, vendor::delivered, vendor::cancel,
            vendor::list_products, vendor::get_product, vendor::put_product, vendor::delete_product, vendor::balance, vendor::payouts,
            webhooks::receive,
            webhooks::receive_tracking,
        ),
        components(schemas(problem::Problem, wire::MoneyJson, crate::sources::generic::GenericTopic)),
        modifiers(&Security),
    )]
    struct Document;
    Document::openapi().to_pretty_json().unwrap_or_default()
}
