#!/usr/bin/env bash
# Runs every test of dropflow: unit, property, adapter conformance (embedded and AWS),
# end-to-end scenarios on both backends, and the SAM template's checks; then prints one
# closing line with the totals.
#
# Needs a Rust toolchain and python3; it brings the rest: Debian's chromium and
# chromium-driver (apt-get) for the dashboard's browser test, a .venv with moto's server
# mode, the SAM CLI and cfn-lint (scripts/requirements.txt), and starts moto on a free
# loopback port for the AWS adapters, pointed at with AWS_ENDPOINT_URL. The fixtures
# are the repository's own (tests/fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."

# A test run builds the workspace once: incremental caches would only add gigabytes of
# disk (CI's disk is not always roomy) and save nothing. `CARGO_INCREMENTAL=1` keeps them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# The dashboard's browser test drives Debian's chromium through chromedriver; the
# README's examples (functions/local/tests/readme.rs) run with curl, jq and openssl.
# Install what is absent (as root, or through sudo).
missing=()
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium chromium-driver)
for tool in curl jq openssl; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (the browser test and the README's examples)"
  as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# One format (rustfmt.toml), so every diff is readable.
if ! cargo fmt --all --check >/dev/null; then
  echo "cargo fmt --all --check FAILED: run cargo fmt --all" >&2
  cargo fmt --all --check 2>&1 | head -40 >&2
  exit 1
fi
echo "cargo fmt --check passed"
# Clippy, every warning an error, on every crate and target. clippy.toml adds two
# rules of this house: time is an input (the wall clock is read only through the Clock
# port, disallowed-methods), and no production function is over 80 lines.
if ! cargo clippy --workspace --all-targets --locked -q -- -D warnings; then
  echo "clippy FAILED (see above)" >&2
  exit 1
fi
echo "clippy passed (every warning an error; the wall clock only through the Clock port; no production function over 80 lines)"

log=$(mktemp)
source scripts/local-aws.sh
trap 'kill "$moto_pid" 2>/dev/null || true; rm -f "$moto_log" "$log"' EXIT

status=0
# The dashboard's browser test leaves a screenshot of the order detail here (this run's
# only: an older one is removed first).
screenshot="${TMPDIR:-/tmp}/dropflow-dashboard-test/order-detail.png"
rm -f "$screenshot"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=1
if [ -f "$screenshot" ]; then echo "dashboard screenshot (order detail): $screenshot"; fi

# The hot-path benchmarks, each run once in test mode (criterion without --bench), so
# that they cannot rot; `cargo bench -p hot-paths` measures them (BENCHMARKS.md).
benches=0
if cargo test --locked -p hot-paths --benches >>"$log" 2>&1; then
  benches=$(grep -c '^Success' "$log" || true)
  echo "hot-path benchmarks ran once: $benches"
else
  echo "hot-path benchmarks FAILED" >&2
  tail -40 "$log" >&2
  status=1
fi

# The API against its own document: schemathesis fuzzes every operation of
# /openapi.json on a local `dropflow serve` with a vendor's key; any server error or
# answer outside the documented schemas fails the run.
api_check=0
cargo build --locked -q -p dropflow-local
api_dir=$(mktemp -d)
dropflow="target/debug/dropflow --data-dir $api_dir"
$dropflow vendor add fuzz-vendor --name Fuzz --email fuzz@vendors.example >/dev/null
api_key=$($dropflow key create fuzz-vendor)
$dropflow product add FUZZ-1 --vendor fuzz-vendor --supplier Fuzz --url https://fuzz.example/1 --cost 1.00 --currency USD >/dev/null
api_port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The fuzzer reaches no real supplier: CJ's API is pointed at a path of the app itself,
# which answers 404 (a connect is then refused with 422, as an answer CJ never gives).
CJ_API_URL="http://127.0.0.1:$api_port/no-supplier-here" $dropflow serve --port "$api_port" >"$api_dir/serve.log" 2>&1 &
api_pid=$!
trap 'kill "$moto_pid" "$api_pid" 2>/dev/null || true; rm -f "$moto_log" "$log"' EXIT
for _ in $(seq 50); do "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$api_port/openapi.json')" 2>/dev/null && break; sleep 0.2; done
# First, as a client author meets the API: every example of the document valid against
# its schema, and a Python client generated from it (openapi-python-client) driving one
# order from new to delivered.
client_check=0
if "$venv/bin/python" scripts/api_client_check.py --base "http://127.0.0.1:$api_port" --key "$api_key" --sku FUZZ-1 >>"$log" 2>&1; then
  echo "generated client and examples passed"
  client_check=1
else
  echo "generated client or examples FAILED" >&2
  tail -30 "$log" >&2
  status=1
fi
if "$venv/bin/schemathesis" run "http://127.0.0.1:$api_port/openapi.json" --checks not_a_server_error,response_schema_conformance \
  --header "Authorization: Bearer $api_key" --max-examples 30 --seed 1 >>"$log" 2>&1; then
  echo "schemathesis passed"
  api_check=1
else
  echo "schemathesis FAILED" >&2
  tail -60 "$log" >&2
  status=1
fi
kill "$api_pid" 2>/dev/null || true

# The template: SAM's own validation (transform) and its linter (cfn-lint rules).
template_checks=0
for check in "sam validate --lint --template infra/template.yaml" "sam validate --template infra/template.yaml" "cfn-lint --include-checks I -- infra/template.yaml"; do
  if $venv/bin/$check >>"$log" 2>&1; then
    echo "template check passed: $check"
    template_checks=$((template_checks + 1))
  else
    echo "template check FAILED: $check" >&2
    tail -20 "$log" >&2
    status=1
  fi
done

awk -v t="$template_checks" -v a="$api_check" -v c="$client_check" -v b="$benches" '/^test result:/ { passed += $4; failed += $6 } END { printf "all tests: %d passed, %d failed; benchmarks run once: %d; schemathesis: %s; generated client: %s; template checks: %d of 3 passed\n", passed, failed, b, (a ? "clean" : "FAILED"), (c ? "passed" : "FAILED"), t }' "$log"
exit "$status"
