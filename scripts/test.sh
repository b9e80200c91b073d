#!/usr/bin/env bash
# Runs every test of dropflow: unit, property, adapter conformance (embedded and AWS),
# end-to-end scenarios on both backends, and the SAM template's checks; then prints one
# closing line with the totals.
#
# Needs a Rust toolchain and python3; it brings the rest: a .venv with moto's server
# mode, the SAM CLI and cfn-lint (scripts/requirements.txt), and starts moto on a free
# loopback port for the AWS adapters, pointed at with AWS_ENDPOINT_URL. The fixtures
# are the repository's own (tests/fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
source scripts/local-aws.sh
trap 'kill "$moto_pid" 2>/dev/null || true; rm -f "$moto_log" "$log"' EXIT

status=0
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=1

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
