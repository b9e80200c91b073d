#!/usr/bin/env bash
# Runs every test of dropflow: unit, property, adapter conformance (embedded and AWS),
# end-to-end scenarios on both backends, and the SAM template's checks; then prints one
# closing line with the totals.
#
# Needs a Rust toolchain and python3; it brings the rest: a .venv with moto's server
# mode, the SAM CLI and cfn-lint (scripts/requirements.txt), and starts moto on a free
# loopback port for the AWS adapters, pointed at with AWS_ENDPOINT_URL. The fixtures
# are read from ../shared/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/fixtures ]; then
  echo "test.sh: ../shared/fixtures is missing (the public payloads the tests read)" >&2
  exit 1
fi

venv=.venv
if ! cmp -s scripts/requirements.txt "$venv/requirements.txt"; then
  echo "test.sh: installing the Python tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements.txt
  cp scripts/requirements.txt "$venv/requirements.txt"
fi

log=$(mktemp)
moto_log=$(mktemp)
moto_pid=
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -f "$log" "$moto_log"
}
trap cleanup EXIT

port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$moto_log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then echo "test.sh: moto did not start:" >&2; cat "$moto_log" >&2; exit 1; fi
  sleep 0.2
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export SAM_CLI_TELEMETRY=0
echo "test.sh: moto on $AWS_ENDPOINT_URL"

status=0
cargo test --workspace --locked 2>&1 | tee "$log" || status=1

# The template: SAM's own validation (transform) and its linter (cfn-lint rules).
template_checks=0
for check in "sam validate --lint --template infra/template.yaml" "sam validate --template infra/template.yaml" "cfn-lint infra/template.yaml"; do
  if $venv/bin/$check >>"$log" 2>&1; then
    echo "template check passed: $check"
    template_checks=$((template_checks + 1))
  else
    echo "template check FAILED: $check" >&2
    tail -20 "$log" >&2
    status=1
  fi
done

awk -v t="$template_checks" '/^test result:/ { passed += $4; failed += $6 } END { printf "all tests: %d passed, %d failed; template checks: %d of 3 passed\n", passed, failed, t }' "$log"
exit "$status"
