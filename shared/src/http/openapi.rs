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
    use super::{operator, problem, supplier_accounts, vendor, webhooks, wire};
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
            components.add_security_scheme(
                "operator",
                SecurityScheme::Http(
                    HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An operator key from `dropflow operator key create`")).build(),
                ),
            );
        }
    }

    #[derive(OpenApi)]
    #[openapi(
        servers((url = "/", description = "The server that served this document: `dropflow serve` (http://127.0.0.1:3000) or the deployed stack's ApiUrl")),
        info(title = "dropflow", description = "The vendor API, the operator API and the storefront webhooks of dropflow. Money is {\"amount\": \"199.00\", \"currency\": \"USD\"}, exact; instants are RFC 3339 UTC to the second; errors are application/problem+json."),
        paths(
            vendor::list_orders, vendor::get_order, vendor::supplier_order, vendor::supplier_confirm, vendor::supplier_retry, vendor::supplier_manual, vendor::shipment, vendor::correct_shipment, vendor::delivered, vendor::cancel,
            vendor::list_products, vendor::get_product, vendor::put_product, vendor::delete_product, vendor::balance, vendor::payouts, vendor::scorecard,
            supplier_accounts::list, supplier_accounts::connect_cj, supplier_accounts::authorize_aliexpress, supplier_accounts::aliexpress_callback,
            webhooks::receive,
            webhooks::receive_tracking,
            webhooks::receive_supplier,
            operator::me, operator::orders, operator::order, operator::give, operator::void, operator::address, operator::extend, operator::resend, operator::vendors, operator::hold, operator::release,
            operator::approve, operator::refuse, operator::dead_letters, operator::dead_letter, operator::replay, operator::discard, operator::queue, operator::scorecards, operator::payouts, operator::export_payouts, operator::run_payouts, operator::mark_paid, operator::vendor, operator::suspend, operator::resume,
        ),
        components(schemas(problem::Problem, wire::MoneyJson, crate::sources::generic::GenericTopic)),
        modifiers(&Security),
    )]
    struct Document;
    Document::openapi().to_pretty_json().unwrap_or_default()
}

/// The parts many operations of the document share, written once: the refusals every
/// vendor call can meet, those of a change to one order, and a change's parameters.
#[cfg(feature = "openapi")]
pub mod parts {
    use std::collections::BTreeMap;
    use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
    use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder, Type};

    /// Each `(status, description)` as an `application/problem+json` answer.
    fn problems(answers: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
        let problem = || Content::new(Some(Ref::from_schema_name("Problem")));
        answers
            .iter()
            .map(|(status, description)| {
                (status.to_string(), ResponseBuilder::new().description(*description).content("application/problem+json", problem()).build().into())
            })
            .collect()
    }

    /// What any call with a vendor key may be refused with.
    pub struct VendorRefusals;

    impl utoipa::IntoResponses for VendorRefusals {
        fn responses() -> BTreeMap<String, RefOr<Response>> {
            problems(&[("400", "A malformed request"), ("401", "A missing, unknown or revoked key"), ("403", "The vendor is suspended")])
        }
    }

    /// What any call with an operator key may be refused with.
    pub struct OperatorRefusals;

    impl utoipa::IntoResponses for OperatorRefusals {
        fn responses() -> BTreeMap<String, RefOr<Response>> {
            problems(&[
                ("400", "A malformed request"),
                ("401", "A missing, unknown or revoked key"),
                ("403", "A vendor's key: these routes take an operator key"),
                ("413", "The body is too large"),
            ])
        }
    }

    /// What a change to one vendor order may be refused with, besides its own 409.
    pub struct ChangeRefusals;

    impl utoipa::IntoResponses for ChangeRefusals {
        fn responses() -> BTreeMap<String, RefOr<Response>> {
            problems(&[
                ("404", "No such order for this vendor"),
                ("412", "If-Match names an older version"),
                ("413", "The body is too large"),
                ("422", "A field is missing or wrong"),
            ])
        }
    }

    /// What any webhook may be refused with, besides its own 400 and 404.
    pub struct WebhookRefusals;

    impl utoipa::IntoResponses for WebhookRefusals {
        fn responses() -> BTreeMap<String, RefOr<Response>> {
            problems(&[("401", "A bad or missing signature"), ("413", "Too large")])
        }
    }

    /// A change's parameters: the order, the version read, and the idempotency key.
    pub struct ChangeParams;

    impl utoipa::IntoParams for ChangeParams {
        fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
            let header = |name: &str, description: &str| {
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Header)
                    .description(Some(description))
                    .required(Required::False)
                    .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))))
                    .build()
            };
            vec![
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .description(Some("The vendor order's id"))
                    .required(Required::True)
                    .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
                header("If-Match", "The ETag read: refused with 412 when the order has moved on"),
                header("Idempotency-Key", "Replays the first answer for the same request within 24 h; another request with it gets 422"),
            ]
        }
    }
}
