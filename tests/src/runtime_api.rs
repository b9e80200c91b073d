//! A Lambda Runtime API on loopback that hands a function binary one event and returns
//! its answer: how the tests run the real Lambda mains (`functions/*`) end to end.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Where the one answer goes: ("response" or "error", its body), taken by the first post.
type AnswerSlot = Arc<Mutex<Option<oneshot::Sender<(String, Value)>>>>;

#[derive(Clone)]
struct Invocation {
    event: Value,
    handed_out: Arc<Mutex<bool>>,
    answer: AnswerSlot,
}

async fn next(State(invocation): State<Invocation>) -> axum::response::Response {
    let first = !std::mem::replace(&mut *invocation.handed_out.lock().unwrap(), true);
    if !first {
        // Lambda would freeze the process here; the test stops it first.
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", "test-request".parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", (wall_clock().timestamp_millis() + 30_000).to_string().parse().unwrap());
    headers.insert("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:test".parse().unwrap());
    (headers, axum::Json(invocation.event.clone())).into_response()
}

fn reply(invocation: &Invocation, kind: &str, body: &str) {
    if let Some(sender) = invocation.answer.lock().unwrap().take() {
        let _ = sender.send((kind.to_string(), serde_json::from_str(body).unwrap_or(Value::String(body.to_string()))));
    }
}

/// Starts `binary` with exactly `env` (plus the Runtime API address), gives it `event`,
/// and returns what it posted: `("response", body)`, or `("error", body)` when the
/// handler or its start-up failed.
pub async fn invoke_once(binary: &Path, env: &[(String, String)], event: Value) -> (String, Value) {
    let (kind, answer, _) = invoke_once_logged(binary, env, event).await;
    (kind, answer)
}

/// `invoke_once`, with what the function wrote on stdout by the time it answered (its
/// logs and its metrics line).
pub async fn invoke_once_logged(binary: &Path, env: &[(String, String)], event: Value) -> (String, Value, String) {
    let (sender, receiver) = oneshot::channel();
    let invocation = Invocation { event, handed_out: Arc::new(Mutex::new(false)), answer: Arc::new(Mutex::new(Some(sender))) };
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(|State(i): State<Invocation>, body: String| async move { reply(&i, "response", &body) }))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(|State(i): State<Invocation>, body: String| async move { reply(&i, "error", &body) }))
        .route("/2018-06-01/runtime/init/error", post(|State(i): State<Invocation>, body: String| async move { reply(&i, "error", &body) }))
        .with_state(invocation);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .kill_on_drop(true)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the function");
    let answer = tokio::select! {
        answer = receiver => answer.expect("an answer"),
        exited = child.wait() => {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr).await;
            }
            panic!("{} exited ({exited:?}) before answering: {stderr}", binary.display())
        }
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => panic!("{} did not answer within 30 s", binary.display()),
    };
    let _ = child.kill().await;
    server.abort();
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stdout).await;
    }
    (answer.0, answer.1, stdout)
}

/// The environment a function gets from the template's globals, for a stack on the
/// emulator: the settings, the resources, and the SDK's own variables (endpoint,
/// credentials, region) taken from this process. No webhook secret: only order-webhook
/// is given one.
pub fn function_env(stack: &crate::backend::AwsStack) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("STORE_NAME", "Lambda Test Store".to_string()),
        ("SENDER_EMAIL", stack.sender.clone()),
        ("OPERATOR_EMAIL", "ops@market.example".to_string()),
        ("TABLE_NAME", stack.resources.table_name.clone()),
        ("INTAKE_QUEUE_URL", stack.resources.intake_queue_url.clone()),
        ("NOTIFY_QUEUE_URL", stack.resources.notify_queue_url.clone()),
        ("STOREFRONT_QUEUE_URL", stack.resources.storefront_queue_url.clone()),
        ("RELAY_DLQ_URL", stack.resources.relay_dead_letter_queue_url.clone().unwrap_or_default()),
        ("RUST_LOG", "warn".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for name in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(value) = std::env::var(name) {
            env.push((name.to_string(), value));
        }
    }
    env
}

/// An API Gateway HTTP API request (payload format 2.0), as the HTTP API hands it to
/// order-webhook and vendor-api.
pub fn http_event(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Value {
    let headers: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    serde_json::json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": "",
        "headers": headers, "body": body, "isBase64Encoded": false,
        "requestContext": {
            "accountId": "123456789012", "apiId": "test", "domainName": "test.example", "requestId": "test",
            "routeKey": format!("{method} {path}"), "stage": "$default", "time": "22/Nov/2026:00:00:00 +0000", "timeEpoch": 0,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"}
        }
    })
}

/// An SQS event source mapping batch of `bodies`.
pub fn sqs_batch(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| {
            serde_json::json!({
                "messageId": format!("m-{n}"), "receiptHandle": format!("r-{n}"), "body": body, "attributes": {}, "messageAttributes": {},
                "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test", "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// A DynamoDB stream batch (`NEW_IMAGE`) as the event source mapping hands it to
/// event-relay: each record `(eventName, keys, new image)` in DynamoDB's JSON.
pub fn dynamodb_stream_batch(records: &[(&str, Value, Value)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(n, (name, keys, image))| {
            serde_json::json!({
                "eventID": format!("e-{n}"), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_795_000_000 + n, "Keys": keys, "NewImage": image,
                    "SequenceNumber": format!("{:021}", 100 + n), "SizeBytes": 200, "StreamViewType": "NEW_IMAGE"
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/test/stream/2026-11-22T00:00:00.000"
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// An EventBridge scheduled event as AWS sends it to a function, from the rule `rule`.
pub fn scheduled_event(rule: &str) -> serde_json::Value {
    serde_json::json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:123456789012:rule/{rule}")], "detail": {}
    })
}

/// The machine's clock, for what is measured against it outside the test: a Lambda
/// binary reads `SystemClock` (its sweep fires what is due by now), the runtime API's
/// deadline is wall-clock milliseconds, and Secrets Manager dates its versions. Every
/// other test runs on a clock it sets; this one place is allowed the wall clock.
#[allow(clippy::disallowed_methods, reason = "what these tests check is measured against the wall clock by AWS and the deployed binaries")]
pub fn wall_clock() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
