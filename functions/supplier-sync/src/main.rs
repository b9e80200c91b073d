//! Lambda main: supplier-sync (the supplier orders that are due placed through
//! AliExpress's and CJ's APIs, the placed ones read back), on its EventBridge schedule.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{handlers, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_scheduled("supplier-sync", handlers::supplier_sync, AwsAdapters::NONE.store()).await
}
