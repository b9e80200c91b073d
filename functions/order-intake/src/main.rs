//! Lambda main: order intake, on the intake queue.

use dropflow_shared::lambda;
use dropflow_shared::ports::QueueName;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_sqs("order-intake", QueueName::Intake).await
}
