//! Lambda main: the table's stream (inserted event items) to the notify queue, with
//! partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    dropflow_shared::lambda::run_event_relay().await
}
