//! Lambda main: the operator API and its console page (operator keys only).

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{http, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::run_http("operator-api", http::operator_router, lambda::Needs::Nothing, AwsAdapters::NONE.store().queues()).await
}
