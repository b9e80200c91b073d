//! A hello-world `lambda_runtime` function: echoes its event. `scripts/bench.sh`
//! compares every dropflow function's start-up and memory against it.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}
