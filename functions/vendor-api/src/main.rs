//! Lambda main: the vendor REST API behind API Gateway's HTTP API (the shared router);
//! the services are built once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    dropflow_shared::lambda::run_vendor_api().await
}
