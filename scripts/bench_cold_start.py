"""Cold start, warm answers, log bytes and peak memory of each Lambda binary.

A minimal Lambda Runtime API on loopback hands each freshly started process three
events, each a new order where that matters, in rounds that start every binary once.
"init" is the time from spawning the process to its first request for an event (the
binary's own start-up: configuration read, clients built), also as a ratio to the
baseline's init in the same round; "first answer" is the time to its first answer
arriving (start-up plus the event handled, including its AWS calls to the emulator);
"warm answer" is the time from handing out a later event to its answer. Peak memory is
the process's VmHWM (peak resident set) read from /proc after its last answer; log
bytes are what it wrote to stdout and stderr at RUST_LOG=info, per event. With
BENCH_JSON set, the medians are also written there as JSON (for bench_cost.py). Run by
scripts/bench.sh, which starts moto and bootstraps the stack the functions use.

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
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RuntimeApi(BaseHTTPRequestHandler):
    """The two calls of the Lambda Runtime API a function makes per event: it hands out
    `events` one by one, then holds the next request until the process is stopped."""

    events = [b"{}"]
    handed = 0
    handed_at = []
    answers = []
    answered_at = []
    all_answered = threading.Event()
    initialised = threading.Event()
    initialised_at = 0.0
    waiting_again = threading.Event()
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_GET(self):
        with RuntimeApi.lock:
            if not RuntimeApi.initialised.is_set():
                RuntimeApi.initialised_at = time.perf_counter()
                RuntimeApi.initialised.set()
            n = RuntimeApi.handed
            fresh = self.path.endswith("/invocation/next") and n < len(RuntimeApi.events) and len(RuntimeApi.answers) == n
            if fresh:
                RuntimeApi.handed += 1
                RuntimeApi.handed_at.append(time.perf_counter())
        if fresh:
            body = RuntimeApi.events[n]
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", f"bench-request-{n}")
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
        answer = self.rfile.read(length)
        with RuntimeApi.lock:
            RuntimeApi.answers.append(answer)
            RuntimeApi.answered_at.append(time.perf_counter())
            if len(RuntimeApi.answers) == len(RuntimeApi.events):
                RuntimeApi.all_answered.set()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure(binary, events, port):
    """Starts `binary` and hands it `events`, one after the other. Returns its init, its
    first (cold) answer, its later (warm) answers' handling times, its peak RSS, the
    bytes it logged, and its last answer."""
    RuntimeApi.events = events
    RuntimeApi.handed = 0
    RuntimeApi.handed_at, RuntimeApi.answers, RuntimeApi.answered_at = [], [], []
    RuntimeApi.all_answered.clear()
    RuntimeApi.initialised.clear()
    RuntimeApi.waiting_again.clear()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}", AWS_LAMBDA_FUNCTION_NAME="bench",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_FUNCTION_VERSION="1", RUST_LOG="info")
    with tempfile.TemporaryFile() as logs:
        started = time.perf_counter()
        process = subprocess.Popen([binary], env=env, stdout=logs, stderr=logs)
        if not RuntimeApi.all_answered.wait(30):
            process.kill()
            logs.seek(0)
            raise SystemExit(f"{binary} did not answer: {logs.read().decode(errors='replace')}")
        cold_ms = (RuntimeApi.answered_at[0] - started) * 1000
        warm_ms = [(a - h) * 1000 for h, a in zip(RuntimeApi.handed_at[1:], RuntimeApi.answered_at[1:])]
        init_ms = (RuntimeApi.initialised_at - started) * 1000
        RuntimeApi.waiting_again.wait(5)  # the last answer is sent: the peak is reached
        rss = peak_rss_kib(process.pid)
        process.kill()
        process.wait()
        log_bytes = logs.seek(0, os.SEEK_END)
        logs.seek(0)
        phases = start_up_phases(logs.read().decode(errors="replace"))
    return {"init": init_ms, "cold": cold_ms, "warm": warm_ms, "rss": rss, "log_bytes": log_bytes, "answer": RuntimeApi.answers[-1], "phases": phases}


def start_up_phases(log):
    """The microseconds of each start-up phase, from the `start-up` line a function logs
    once (`lambda::start`); {} for a binary that logs none (the baseline)."""
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        fields = entry.get("fields", {}) if isinstance(entry, dict) else {}
        if fields.get("message") == "start-up":
            return json.loads(fields["phases_us"])
    return {}


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


def stream_event(relayed=set()):
    """A DynamoDB stream batch of one inserted event item, as the relay's mapping sends
    it: a real event the intake runs committed (read back from the table), each once
    while there are new ones. The relay puts it on the notify queue for the notifier."""
    import boto3
    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"], FilterExpression="begins_with(sk, :evt)",
                                          ExpressionAttributeValues={":evt": {"S": "EVT#"}})["Items"]
    if not items:
        raise SystemExit("no event item in the table: the intake runs committed none")
    image = next((i for i in items if i["sk"]["S"] not in relayed), items[0])
    relayed.add(image["sk"]["S"])
    n = len(relayed)
    record = {"eventID": f"e-{n}", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
              "dynamodb": {"ApproximateCreationDateTime": 1_795_000_000 + n, "Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image,
                           "SequenceNumber": f"{100 + n:021}", "SizeBytes": 200, "StreamViewType": "NEW_IMAGE"},
              "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/bench/stream/2026-11-22T00:00:00.000"}
    return {"Records": [record]}


def notify_message(previous=[]):
    """A real event from the notify queue (put there by the event-relay runs); the last
    one again if the queue has none ready."""
    import boto3
    queue = boto3.client("sqs").receive_message(QueueUrl=os.environ["NOTIFY_QUEUE_URL"], MaxNumberOfMessages=1)
    if queue.get("Messages"):
        previous[:] = [queue["Messages"][0]["Body"]]
    if not previous:
        raise SystemExit("the notify queue is empty: the event-relay runs put nothing there")
    return previous[0]


def spread(values):
    """median [min–max], the way the tables print a measurement over runs."""
    return f"{statistics.median(values):.1f} [{min(values):.1f}–{max(values):.1f}]"


EVENTS_PER_PROCESS = 3
"""One cold event, then warm ones in the same process (Lambda reuses a container)."""


def main():
    runs, binaries, fixture, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with open(fixture) as f:
        template = json.load(f)
    secret = os.environ["SHOPIFY_WEBHOOK_SECRET"].encode()
    serial = iter(range(1, 1_000_000))

    def order():
        """The fixture as a new order each time, so that every event does real work."""
        n = next(serial)
        return json.dumps(dict(template, id=template["id"] * 1000 + n, name=f"#B{n}", order_number=n)), f"bench-{n}"

    def webhook():
        body, event_id = order()
        signature = base64.b64encode(hmac.new(secret, body.encode(), hashlib.sha256).digest()).decode()
        headers = {"content-type": "application/json", "x-shopify-hmac-sha256": signature, "x-shopify-topic": "orders/paid",
                   "x-shopify-shop-domain": "bench.myshopify.com", "x-shopify-event-id": event_id}
        return http_event("POST", "/webhooks/shopify", headers, body)

    intaken = []

    def intake():
        body, event_id = order()
        intaken.append(json.loads(body)["id"])
        return sqs_event(json.dumps({"source": "shopify", "topic": "orders/paid", "shop": "bench.myshopify.com", "delivery_id": event_id, "body": body}))

    def status_page():
        """The status page of the order intake filed last, by its link (STATUS_LINK_KEYS)."""
        kid, secret = os.environ["STATUS_LINK_KEYS"].split(",")[0].split(":", 1)
        order_id = "o_" + hashlib.sha256(f"shopify\n\n{intaken[-1]}".encode()).hexdigest()[:24]
        tag = hmac.new(secret.encode(), b"dropflow order status v1\n" + order_id.encode(), hashlib.sha256).digest()[:16]
        token = base64.urlsafe_b64encode(f"{kid}:{order_id}".encode() + tag).decode().rstrip("=")
        return http_event("GET", f"/status/{token}", {"accept-language": "en"})

    cases = [
        ("hello-lambda (baseline)", "hello-lambda", lambda: {"hello": "world"}),
        ("order-webhook: verify + enqueue", "order-webhook", webhook),
        ("order-intake: parse + route + transaction", "order-intake", intake),
        ("event-relay: one event to the notify queue", "event-relay", stream_event),
        ("notifier: render + claim + send", "notifier", lambda: sqs_event(notify_message())),
        ("vendor-api: list orders", "vendor-api", lambda: http_event("GET", "/vendor/orders", {"authorization": f"Bearer {key}"})),
        ("order-status: a customer's page", "order-status", status_page),
        ("sla-sweep: one sweep", "sla-sweep", scheduled_event),
        ("payout-release: one run", "payout-release", scheduled_event),
        ("supplier-sync: one run, nothing due", "supplier-sync", scheduled_event),
    ]
    # Alternating rounds: each round starts every binary once, so that the machine's
    # drift over the run touches all of them alike, and each init is also taken as a
    # ratio to the baseline's init of the same round.
    results = {binary: [] for _, binary, _ in cases}
    for _ in range(runs):
        for _, binary, event in cases:
            events = [json.dumps(event()).encode() for _ in range(EVENTS_PER_PROCESS)]
            results[binary].append(measure(os.path.join(binaries, binary), events, port))
    print(f"{runs} alternating rounds; each process takes {EVENTS_PER_PROCESS} events: the first cold, the others warm. Each cell: median [min–max].")
    print()
    print("| function: event | init (ms) | init ÷ baseline's, same round | first answer, cold (ms) | warm answer (ms) | peak RSS (MiB) | log bytes per event | answer |")
    print("|---|---|---|---|---|---|---|---|")
    summary_json = {}
    baseline = [r["init"] for r in results["hello-lambda"]]
    for name, binary, _ in cases:
        rows = results[binary]
        inits = [r["init"] for r in rows]
        ratios = [r["init"] / b for r, b in zip(rows, baseline)]
        warm = [w for r in rows for w in r["warm"]]
        log_bytes = statistics.median(r["log_bytes"] / EVENTS_PER_PROCESS for r in rows)
        rss = max(r["rss"] for r in rows) / 1024
        answer = json.loads(rows[-1]["answer"] or b"null")
        summary = "echo"
        if isinstance(answer, dict) and "statusCode" in answer:
            summary = f"HTTP {answer['statusCode']}"
        elif isinstance(answer, dict) and "batchItemFailures" in answer:
            summary = f"{len(answer['batchItemFailures'])} of 1 failed"
        elif isinstance(answer, dict) and "complete" in answer:
            summary = "complete" if answer["complete"] else "incomplete"
        ratio = "1" if binary == "hello-lambda" else f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]"
        print(f"| {name} | {spread(inits)} | {ratio} | {spread([r['cold'] for r in rows])} | {spread(warm)} | {rss:.1f} | {log_bytes:.0f} | {summary} |")
        summary_json[binary] = {"init_ms": statistics.median(inits), "warm_ms": statistics.median(warm), "log_bytes_per_event": log_bytes, "peak_rss_mib": rss}
    print()
    print("Start-up phases inside the process (median µs of each, from its `start-up` line; init minus their sum is the")
    print("process's load and the runtime's own start, which the baseline has too):")
    print()
    names = []
    for _, binary, _ in cases:
        for row in results[binary]:
            names += [n for n in row["phases"] if n not in names]
    print("| function | " + " | ".join(names) + " | sum (ms) | init (ms) |")
    print("|---|" + "---|" * (len(names) + 2))
    for name, binary, _ in cases:
        rows = [r for r in results[binary] if r["phases"]]
        if not rows:
            continue
        medians = [statistics.median(r["phases"].get(n, 0) for r in rows) for n in names]
        print(f"| {name} | " + " | ".join(f"{m:.0f}" for m in medians) + f" | {sum(medians) / 1000:.2f} | {statistics.median(r['init'] for r in rows):.2f} |")
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as out:
            json.dump(summary_json, out, indent=1)


if __name__ == "__main__":
    main()
