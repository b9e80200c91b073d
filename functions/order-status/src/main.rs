//! Lambda main: the customer's order-status page (`GET /status/{token}`), read-only.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{http, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::run_http("order-status", http::status_router, lambda::Needs::Nothing, AwsAdapters::NONE.store()).await
}
