"""Cold start and peak memory of each Lambda binary answering one event.

A minimal Lambda Runtime API on loopback hands each freshly started process one event.
"init" is the time from spawning the process to its first request for an event (the
binary's own start-up: configuration read, clients built); "first answer" is the time
to its answer arriving (start-up plus the event handled, including its AWS calls to
the emulator). Peak memory is the process's VmHWM (peak resident set)
read from /proc just after it answers. Run by scripts/bench.sh, which starts moto and
bootstraps the stack the functions use.

usage: bench_cold_start.py RUNS BINARY_DIR FIXTURE VENDOR_API_KEY
(the functions' settings come from the environment, as in Lambda)
"""

import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RuntimeApi(BaseHTTPRequestHandler):
    """The two calls of the Lambda Runtime API a function makes for one event."""

    event = b"{}"
    answered = threading.Event()
    answer = b""
    initialised = threading.Event()
    initialised_at = 0.0
    waiting_again = threading.Event()

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not RuntimeApi.initialised.is_set():
            RuntimeApi.initialised_at = time.perf_counter()
            RuntimeApi.initialised.set()
        if self.path.endswith("/invocation/next") and not RuntimeApi.answered.is_set():
            body = RuntimeApi.event
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-request")
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            RuntimeApi.waiting_again.set()
            time.sleep(5)  # the next event never comes; the process is stopped first
            try:
                self.send_response(204)
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        RuntimeApi.answer = self.rfile.read(length)
        RuntimeApi.answered.set()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure(binary, event, port):
    RuntimeApi.event = event
    RuntimeApi.answered.clear()
    RuntimeApi.initialised.clear()
    RuntimeApi.waiting_again.clear()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}", AWS_LAMBDA_FUNCTION_NAME="bench",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_FUNCTION_VERSION="1", RUST_LOG="warn")
    started = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not RuntimeApi.answered.wait(30):
        process.kill()
        raise SystemExit(f"{binary} did not answer: {process.stderr.read().decode()}")
    elapsed_ms = (time.perf_counter() - started) * 1000
    init_ms = (RuntimeApi.initialised_at - started) * 1000
    RuntimeApi.waiting_again.wait(5)  # the answer is sent: the peak is reached
    rss = peak_rss_kib(process.pid)
    process.kill()
    process.wait()
    return init_ms, elapsed_ms, rss, RuntimeApi.answer


def http_event(method, path, headers, body=""):
    """An API Gateway HTTP API (payload 2.0) request."""
    return {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
        "headers": headers, "body": body, "isBase64Encoded": False,
        "requestContext": {"accountId": "123456789012", "apiId": "bench", "domainName": "bench.example",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
                           "requestId": "bench", "routeKey": f"{method} {path}", "stage": "$default", "time": "22/Nov/2026:00:00:00 +0000",
                           "timeEpoch": 0},
    }


def sqs_event(body):
    """An SQS event source mapping batch of one message."""
    return {"Records": [{"messageId": "bench-1", "receiptHandle": "bench", "body": body, "attributes": {}, "messageAttributes": {},
                         "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench", "awsRegion": "us-east-1"}]}


def scheduled_event():
    """An EventBridge scheduled event, as the sweep's and the release's schedules send it."""
    return {"version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "time": "2026-11-22T00:00:00Z", "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench"], "detail": {}}


def notify_message():
    """A real event from the notify queue (published by order-intake during its runs)."""
    import boto3
    queue = boto3.client("sqs").receive_message(QueueUrl=os.environ["NOTIFY_QUEUE_URL"], MaxNumberOfMessages=1)
    return queue["Messages"][0]["Body"]


def main():
    runs, binaries, fixture, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with open(fixture) as f:
        order = f.read()
    secret = os.environ["SHOPIFY_WEBHOOK_SECRET"].encode()
    signature = base64.b64encode(hmac.new(secret, order.encode(), hashlib.sha256).digest()).decode()
    webhook_headers = {"content-type": "application/json", "x-shopify-hmac-sha256": signature, "x-shopify-topic": "orders/paid",
                       "x-shopify-shop-domain": "bench.myshopify.com", "x-shopify-event-id": "bench-1"}
    intake = json.dumps({"source": "shopify", "topic": "orders/paid", "shop": "bench.myshopify.com", "delivery_id": "bench-1", "body": order})
    cases = [
        ("hello-lambda (baseline)", "hello-lambda", lambda: {"hello": "world"}),
        ("order-webhook: verify + enqueue", "order-webhook", lambda: http_event("POST", "/webhooks/shopify", webhook_headers, order)),
        ("order-intake: parse + route + transaction", "order-intake", lambda: sqs_event(intake)),
        ("notifier: render + claim + send", "notifier", lambda: sqs_event(notify_message())),
        ("vendor-api: list orders", "vendor-api", lambda: http_event("GET", "/vendor/orders", {"authorization": f"Bearer {key}"})),
        ("sla-sweep: one sweep", "sla-sweep", scheduled_event),
        ("payout-release: one run", "payout-release", scheduled_event),
    ]
    print("| function: event | init median (ms) | first answer median (ms) | first answer max (ms) | peak RSS (MiB) | answer |")
    print("|---|---|---|---|---|---|")
    for name, binary, event in cases:
        results = [measure(os.path.join(binaries, binary), json.dumps(event()).encode(), port) for _ in range(runs)]
        inits = [r[0] for r in results]
        times = [r[1] for r in results]
        rss = max(r[2] for r in results) / 1024
        answer = json.loads(results[-1][3] or b"null")
        summary = "echo"
        if isinstance(answer, dict) and "statusCode" in answer:
            summary = f"HTTP {answer['statusCode']}"
        elif isinstance(answer, dict) and "batchItemFailures" in answer:
            summary = f"{len(answer['batchItemFailures'])} of 1 failed"
        elif isinstance(answer, dict) and "complete" in answer:
            summary = "complete" if answer["complete"] else "incomplete"
        print(f"| {name} | {statistics.median(inits):.1f} | {statistics.median(times):.1f} | {max(times):.1f} | {rss:.1f} | {summary} |")


if __name__ == "__main__":
    main()
