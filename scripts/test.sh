#!/usr/bin/env bash
# Runs every test of dropflow: unit, property, adapter and end-to-end scenario tests,
# then prints one closing line with the totals.
# Needs only a Rust toolchain; the fixtures are read from ../shared/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/fixtures ]; then
  echo "test.sh: ../shared/fixtures is missing (the public payloads the tests read)" >&2
  exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "all tests: %d passed, %d failed\n", passed, failed }' "$log"
