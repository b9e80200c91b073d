//! Lambda main: the event relay, on the table's stream.

use dropflow_shared::lambda;
use dropflow_shared::lambda::AwsAdapters;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::run_stream("event-relay", AwsAdapters::NONE.queues()).await
}
