//! Lambda main: the SLA sweep, on its EventBridge schedule.

use dropflow_shared::lambda::AwsAdapters;
use dropflow_shared::{handlers, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_scheduled("sla-sweep", handlers::sla_sweep, AwsAdapters::NONE.store()).await
}
