//! Lambda main: order intake, on the intake queue.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{handlers, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_sqs("order-intake", handlers::order_intake, AwsAdapters::NONE.store().queues()).await
}
