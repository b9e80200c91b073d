//! Lambda main: the payout release (holds that ended become available, then payouts),
//! on its daily EventBridge schedule.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    dropflow_shared::lambda::run_payout_release().await
}
