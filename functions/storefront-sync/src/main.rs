//! Lambda main: storefront-sync (each vendor parcel, correction, carrier news and
//! cancel written back to the storefront the order came from), on the storefront queue.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{handlers, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_sqs("storefront-sync", handlers::storefront_sync, AwsAdapters::NONE.store().queues()).await
}
