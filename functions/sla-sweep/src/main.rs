//! Lambda main: the SLA sweep, on its EventBridge schedule.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    dropflow_shared::lambda::run_sla_sweep().await
}
