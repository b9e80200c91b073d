//! Lambda main: the notifier (mail, and AfterShip registration), on the notify queue.

use dropflow_shared::lambda;
use dropflow_shared::ports::QueueName;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_sqs("notifier", QueueName::Notify).await
}
