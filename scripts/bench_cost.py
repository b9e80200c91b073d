"""Cost per 1,000 orders at AWS list prices, from what the benchmarks counted.

Inputs (both written by scripts/bench.sh's run):
- COUNTS: the `counts-json:` line of tests/tests/requests_per_order.rs (DynamoDB
  requests, items and write units of one single-vendor order from webhook to delivered
  with all its mail; the release and payout of a vendor's batch; the queue messages and
  stream events of the order's life);
- DURATIONS: the JSON of scripts/bench_cold_start.py (each function's warm answer time
  and the bytes it logs per event, at RUST_LOG=info);
- the template, for each function's memory size.

Two models: one at a time (low volume: one Lambda invocation per HTTP request, per
queue message and per committed change on the stream), and full batches (high volume:
the template's batch sizes filled).

usage: bench_cost.py COUNTS DURATIONS TEMPLATE
"""

import json
import math
import re
import sys

# AWS list prices, us-east-1, as of 2026-11-22 (the November 2024 on-demand DynamoDB
# prices). Check https://aws.amazon.com/<service>/pricing/ before relying on them.
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "http_api_request": 1.00 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "logs_ingested_gb": 0.50,
    "ses_mail": 0.10 / 1000,
}
PRICE_NOTES = {
    "dynamodb_stream_read": "free: GetRecords by a Lambda trigger is not billed",
    "eventbridge_schedule": "free: scheduled rules are not billed per event",
}

# What Lambda itself logs per invocation (START, END and REPORT lines), in bytes: a
# REPORT line is about 200 bytes with a cold start, START and END about 60 each.
PLATFORM_LOG_BYTES = 300

# The logical id of each function in the template, by binary.
FUNCTIONS = {
    "order-webhook": "OrderWebhookFunction",
    "vendor-api": "VendorApiFunction",
    "order-intake": "OrderIntakeFunction",
    "event-relay": "EventRelayFunction",
    "notifier": "NotifierFunction",
}


def memory_sizes(template_text):
    """MemorySize of each function resource (a CloudFormation template's own tags
    defeat a YAML loader; the resources are regular enough to read by their indent)."""
    sizes, current = {}, None
    for line in template_text.splitlines():
        resource = re.match(r"^  (\w+):\s*$", line)
        if resource:
            current = resource.group(1)
        size = re.match(r"^\s+MemorySize:\s*(\d+)", line)
        if size and current:
            sizes[current] = int(size.group(1))
    global_size = re.search(r"Globals:.*?MemorySize:\s*(\d+)", template_text, re.S)
    return sizes, int(global_size.group(1)) if global_size else 128


def costs(counts, durations, sizes, default_size, batched):
    """The rows of the table: (item, quantity per order, unit, unit price, note). With
    `batched`, every batch is full: ten messages per SQS receive, delete and send from
    the relay, and per intake or notifier invocation; a hundred stream records per
    relay invocation (the template's batch sizes)."""
    order, batch, per_batch = counts["order"], counts["vendor_batch"], counts["orders_per_vendor_batch"]
    sqs_batch, stream_batch = (10, 100) if batched else (1, 1)
    relay_invocations = counts["events_relayed"] / stream_batch if batched else order["TransactWriteItems"]
    invocations = {
        "order-webhook": 1,
        "vendor-api": counts["vendor_api_requests"],
        "order-intake": counts["intake_messages"] / sqs_batch,
        "event-relay": relay_invocations,
        "notifier": counts["notify_messages"] / sqs_batch,
    }
    # A full batch takes about as long as its messages one by one (their store calls
    # run concurrently, so this is an upper bound), and logs each message's lines.
    handled = {"order-webhook": 1, "vendor-api": counts["vendor_api_requests"], "order-intake": counts["intake_messages"],
               "event-relay": relay_invocations * stream_batch if batched else relay_invocations, "notifier": counts["notify_messages"]}
    gb_seconds = sum(n * math.ceil(durations[f]["warm_ms"]) / 1000 * sizes.get(FUNCTIONS[f], default_size) / 1024 for f, n in handled.items())
    log_bytes = sum(n * durations[f]["log_bytes_per_event"] for f, n in handled.items()) + sum(invocations.values()) * PLATFORM_LOG_BYTES
    messages = counts["intake_messages"] + counts["notify_messages"]
    # The webhook sends its message alone; the relay sends in batches; the event
    # source mappings receive and delete in batches.
    sqs_requests = counts["intake_messages"] + counts["notify_messages"] / sqs_batch + 2 * messages / sqs_batch

    def amortized(key):
        return order[key] + batch[key] / per_batch

    return [
        ("Lambda requests", sum(invocations.values()), "invocations", PRICES["lambda_request"],
         ", ".join(f"{f} {n:.3g}" for f, n in invocations.items())),
        ("Lambda compute (arm64)", gb_seconds, "GB-s", PRICES["lambda_gb_second_arm64"],
         "warm answer time per event, rounded up to the ms, at each function's memory size"),
        ("HTTP API", 1 + counts["vendor_api_requests"], "requests", PRICES["http_api_request"], "the webhook and the vendor's calls"),
        ("DynamoDB writes", amortized("write_units"), "write units", PRICES["dynamodb_write_unit"],
         f"{order['write_requests']} write requests; release and payout amortized over {per_batch} orders"),
        ("DynamoDB reads", amortized("GetItem") + amortized("Query"), "read units", PRICES["dynamodb_read_unit"],
         "one per GetItem and Query page (items under 4 KB)"),
        ("SQS", sqs_requests, "requests", PRICES["sqs_request"], "sends, receives and deletes"),
        ("DynamoDB Streams", counts["events_relayed"], "records", 0.0, PRICE_NOTES["dynamodb_stream_read"]),
        ("EventBridge", 0, "events", 0.0, PRICE_NOTES["eventbridge_schedule"]),
        ("CloudWatch Logs", log_bytes / 1e9, "GB", PRICES["logs_ingested_gb"],
         f"{log_bytes:.0f} bytes: the functions' lines (metrics included) plus Lambda's {PLATFORM_LOG_BYTES} per invocation"),
    ]


def main():
    counts_path, durations_path, template_path = sys.argv[1:4]
    with open(counts_path) as f:
        counts = json.load(f)
    with open(durations_path) as f:
        durations = json.load(f)
    with open(template_path) as f:
        sizes, default_size = memory_sizes(f.read())
    unbatched = costs(counts, durations, sizes, default_size, batched=False)
    batched = costs(counts, durations, sizes, default_size, batched=True)
    print("| item | per order, one at a time | per order, full batches | unit | unit price (USD) | USD per 1,000 orders, one at a time | full batches | what is counted (one at a time) |")
    print("|---|---|---|---|---|---|---|---|")
    totals = [0.0, 0.0]
    for (name, quantity, unit, price, note), (_, at_volume, _, _, _) in zip(unbatched, batched):
        totals[0] += quantity * price * 1000
        totals[1] += at_volume * price * 1000
        print(f"| {name} | {quantity:.4g} | {at_volume:.4g} | {unit} | {price:.4g} | {quantity * price * 1000:.5f} | {at_volume * price * 1000:.5f} | {note} |")
    print(f"| **total, excluding SES** | | | | | **{totals[0]:.4f}** | **{totals[1]:.4f}** | target 0.02 |")
    mails = counts["mails"]
    print(f"| SES (excluded) | {mails} | {mails} | mails | {PRICES['ses_mail']:.4g} | {mails * PRICES['ses_mail'] * 1000:.4f} | {mails * PRICES['ses_mail'] * 1000:.4f} | the order's mails, counted in SES |")
    order, batch, per_batch = counts["order"], counts["vendor_batch"], counts["orders_per_vendor_batch"]
    writes = (order["write_units"] + batch["write_units"] / per_batch) * PRICES["dynamodb_write_unit"] * 1000
    keys_only = (order["keys_only_write_units"] + batch["keys_only_write_units"] / per_batch) * PRICES["dynamodb_write_unit"] * 1000
    print()
    print(f"With every index projecting only its keys, DynamoDB writes would cost {keys_only:.4f} instead of {writes:.4f} per 1,000 orders "
          f"(totals {totals[0] - writes + keys_only:.4f} and {totals[1] - writes + keys_only:.4f}).")


if __name__ == "__main__":
    main()
