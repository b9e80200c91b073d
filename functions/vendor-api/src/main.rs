//! Lambda main: the vendor REST API.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{http, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::run_http("vendor-api", http::vendor_router, lambda::Needs::Nothing, AwsAdapters::NONE.store()).await
}
