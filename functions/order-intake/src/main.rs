//! Lambda main: the intake queue consumer, with partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    dropflow_shared::lambda::run_queue_consumer(dropflow_shared::ports::QueueName::Intake).await
}
