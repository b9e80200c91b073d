//! Lambda main: the storefront webhooks behind API Gateway's HTTP API (the shared
//! router); the services are built once per container, the signing secret required.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    dropflow_shared::lambda::run_webhooks().await
}
