//! Lambda main: the storefronts' and carriers' webhooks, verified and queued.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{http, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::run_http("order-webhook", http::webhook_router, lambda::Needs::AWebhookSecret, AwsAdapters::NONE.queues()).await
}
