#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md, in one command. Builds every function for release
# (the one release build), prints each binary's size, then starts moto, bootstraps a
# stack, and runs each binary RUNS times (default 20) against a local Lambda Runtime
# API, three events per fresh process (the first cold), in alternating rounds. Then counts DynamoDB requests per order's life on
# moto, and the sweep's and the release's reads at 10^3, 10^4 and 10^5 vendor orders;
# prices them per 1,000 orders; runs the in-process hot paths (criterion, 3 times); and drives a
# release `dropflow serve` with the load generator (bench/load) three times.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
source scripts/local-aws.sh

# One invocation per set of the shared crate's features, as `sam build` builds each
# function with its own: one invocation for all would unify them, and reqwest and the
# storefront clients would reach binaries that ship without them.
cargo build --release --locked -p order-webhook -p order-intake -p order-status -p event-relay -p sla-sweep -p payout-release -p hello-lambda
cargo build --release --locked -p vendor-api -p supplier-sync
cargo build --release --locked -p notifier
# Apart, so that the functions are built with their own features only, as `sam build`
# builds them (one invocation unifies the shared crate's features across its packages).
cargo build --release --locked -p dropflow-local -p load
work=$(mktemp -d)
trap 'kill "$moto_pid" 2>/dev/null || true; [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work" "$moto_log"' EXIT
echo
echo "| binary | size (bytes) | size (MiB) |"
echo "|---|---|---|"
for bin in hello-lambda order-webhook order-intake vendor-api order-status notifier event-relay sla-sweep payout-release supplier-sync; do
  size=$(stat -c %s "target/release/$bin")
  echo "| $bin | $size | $(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }') |"
done
echo

cargo build --locked -q -p dropflow-local
dropflow() { target/debug/dropflow --backend aws --stack bench "$@"; }
export SENDER_EMAIL=orders@bench.example OPERATOR_EMAIL=ops@bench.example STORE_NAME=bench SHOPIFY_WEBHOOK_SECRET=bench-secret
export STATUS_LINK_KEYS=bench:a-status-link-key-for-the-benchmarks-000
eval "$(dropflow aws bootstrap | grep -E '^(TABLE_NAME|INTAKE_QUEUE_URL|NOTIFY_QUEUE_URL|STOREFRONT_QUEUE_URL|RELAY_DLQ_URL|SHOPIFY_WEBHOOK_SECRET_ARN)=')"
export TABLE_NAME INTAKE_QUEUE_URL NOTIFY_QUEUE_URL STOREFRONT_QUEUE_URL RELAY_DLQ_URL SHOPIFY_WEBHOOK_SECRET_ARN
dropflow vendor add ipod-shop --name "iPod Shop" --email orders@ipod-shop.example >/dev/null
key=$(dropflow key create ipod-shop)
dropflow product add IPOD2008GREEN --vendor ipod-shop --supplier "AliExpress" --url https://www.aliexpress.com/item/1.html --cost 61.50 --currency USD >/dev/null
BENCH_JSON="$work/durations.json" "$venv/bin/python" scripts/bench_cold_start.py "$runs" target/release tests/fixtures/shopify/orders-create-paid.json "$key"

echo
echo "DynamoDB requests per order (moto):"
cargo test --locked -q -p dropflow-scenarios --test requests_per_order -- --nocapture >"$work/requests.txt" 2>&1
grep -E '^(\||per order)' "$work/requests.txt"
sed -n 's/^counts-json: //p' "$work/requests.txt" >"$work/counts.json"
echo
echo "Cost per 1,000 orders (scripts/bench_cost.py, from the counts above and the warm answers and log bytes of the cold-start run):"
"$venv/bin/python" scripts/bench_cost.py "$work/counts.json" "$work/durations.json" infra/template.yaml
echo
echo "Sweep and release reads against table size (embedded store):"
DROPFLOW_SCALE_MAX=100000 cargo test --locked -q -p dropflow-scenarios --test scaling -- --nocapture 2>&1 | grep -E '^\|'
echo
echo "Hot paths in process (criterion, ${HOT_PATH_RUNS:=3} runs; median in the middle of each [low median high]):"
for run in $(seq "$HOT_PATH_RUNS"); do
  echo "run $run:"
  cargo bench --locked -q -p hot-paths 2>&1 | grep -E 'time:|^[a-zA-Z]' | grep -v -E '^(Benchmarking|Found|Gnuplot|running|test result)'
done
echo
echo "Local throughput: release \`dropflow serve\` on a fresh data dir per run, bench/load's dropflow-load over loopback (${THROUGHPUT_ORDERS:=10000} orders, 16 senders):"
for run in 1 2 3; do
  data="$work/serve-$run"
  release="target/release/dropflow --data-dir $data"
  $release vendor add ipod-shop --name "iPod Shop" --email orders@ipod-shop.example >/dev/null
  $release product add IPOD2008GREEN --vendor ipod-shop --supplier AliExpress --url https://www.aliexpress.com/item/1.html --cost 61.50 --currency USD >/dev/null
  port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SHOPIFY_WEBHOOK_SECRET=bench-secret $release serve --port "$port" >"$data/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 50); do "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/openapi.json')" 2>/dev/null && break; sleep 0.2; done
  target/release/dropflow-load --url "http://127.0.0.1:$port" --secret bench-secret --data-dir "$data" --orders "$THROUGHPUT_ORDERS" --concurrency 16 | { [ "$run" = 1 ] && cat || tail -1; }
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
done
