#!/usr/bin/env bash
# Runs every test of dropflow: unit, property, adapter and end-to-end scenario tests.
# Needs only a Rust toolchain; the fixtures are read from ../shared/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/fixtures ]; then
  echo "test.sh: ../shared/fixtures is missing (the public payloads the tests read)" >&2
  exit 1
fi
cargo test --workspace --locked
