//! Lambda main: the daily release of holds and payouts, on its EventBridge schedule.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{handlers, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_scheduled("payout-release", handlers::payout_release, AwsAdapters::NONE.store()).await
}
