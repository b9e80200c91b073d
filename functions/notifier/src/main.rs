//! Lambda main: the notifier (mail, and AfterShip registration), on the notify queue.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{handlers, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_sqs("notifier", handlers::notify, AwsAdapters::ALL).await
}
