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
cargo build --release --locked -p order-webhook -p order-intake -p order-status -p event-relay -p sla-sweep -p payout-release -p operator-api -p hello-lambda
cargo build --release --locked -p vendor-api -p supplier-sync
cargo build --release --locked -p notifier
cargo build --release --locked -p storefront-sync -p storefront-reconcile
# Apart, so that the functions are built with their own features only, as `sam build`
# builds them (one invocation unifies the shared crate's features across its packages).
cargo build --release --locked -p dropflow-local -p load
work=$(mktemp -d)
trap 'kill "$moto_pid" 2>/dev/null || true; [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work" "$moto_log"' EXIT
echo
echo "| binary | size (bytes) | size (MiB) |"
echo "|---|---|---|"
for bin in hello-lambda order-webhook order-intake vendor-api operator-api order-status notifier event-relay sla-sweep payout-release supplier-sync storefront-sync storefront-reconcile; do
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
# One run of the local pipeline with its data dir under $1: the load's line, then the
# serve process's CPU per order and what a mail file costs on that file system (the
# outbox writes three per order, each created and renamed into place).
throughput_run() {
  local data="$1/serve-$2" header="$3"
  local release="target/release/dropflow --data-dir $data"
  $release vendor add ipod-shop --name "iPod Shop" --email orders@ipod-shop.example >/dev/null
  $release product add IPOD2008GREEN --vendor ipod-shop --supplier AliExpress --url https://www.aliexpress.com/item/1.html --cost 61.50 --currency USD >/dev/null
  local port; port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SHOPIFY_WEBHOOK_SECRET=bench-secret $release serve --port "$port" >"$data/serve.log" 2>&1 &
  local serve_pid=$!
  for _ in $(seq 50); do "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/openapi.json')" 2>/dev/null && break; sleep 0.2; done
  target/release/dropflow-load --url "http://127.0.0.1:$port" --secret bench-secret --data-dir "$data" --orders "$THROUGHPUT_ORDERS" --concurrency 16 | { [ "$header" = yes ] && cat || tail -1; }
  awk -v orders="$THROUGHPUT_ORDERS" -v hz="$(getconf CLK_TCK)" '{printf "  serve CPU: %.2f ms per order (user + system)\n", ($14 + $15) / hz * 1000 / orders}' "/proc/$serve_pid/stat"
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  "$venv/bin/python" scripts/bench_file_create.py "$data"
}
echo "Local throughput: release \`dropflow serve\` on a fresh data dir per run, bench/load's dropflow-load over loopback (${THROUGHPUT_ORDERS:=10000} orders, 16 senders):"
for run in 1 2 3; do
  throughput_run "$work" "$run" "$([ "$run" = 1 ] && echo yes || echo no)"
done
# The same with the data dir in memory: the pipeline without this disk's file creates
# (the outbox's mail files; SQLite's fsyncs become no-ops).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  shm=$(mktemp -d /dev/shm/dropflow-bench.XXXXXX)
  echo "The same, data dir on /dev/shm (tmpfs), one run:"
  throughput_run "$shm" 1 no
  rm -rf "$shm"
fi
