//! Lambda main: the shared HTTP router (webhooks and vendor API) behind API Gateway's
//! HTTP API; the services are built once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    dropflow_shared::lambda::run_http().await
}
