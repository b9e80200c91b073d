//! Lambda main: storefront-reconcile (what the storefronts' webhooks missed, read back
//! through their APIs and queued for intake), on its EventBridge schedule.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{handlers, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_scheduled("storefront-reconcile", handlers::storefront_reconcile, AwsAdapters::NONE.store().queues()).await
}
