#!/usr/bin/env bash
# Runs the time-bound suites (tests/tests/sla.rs, money.rs, order_status.rs and scorecards.rs) with the process's wall
# clock set by faketime (Debian's package, installed when missing) to each day of one
# week and to the instants the suites start at: they must pass whatever the date.
# Usage: bash scripts/faketime-suites.sh [embedded|aws|all (embedded)]; aws and all need
# moto, as scripts/test.sh starts it (source scripts/local-aws.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-embedded}
[ "$filter" = all ] && filter=""
if ! command -v faketime >/dev/null 2>&1; then
  as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get install -y -qq faketime >/dev/null
fi
cargo test --locked -q -p dropflow-scenarios --test sla --test money --test order_status --test scorecards --no-run
for when in "2026-12-07 10:00:00" "2026-12-08 10:00:00" "2026-12-09 10:00:00" "2026-12-10 10:00:00" "2026-12-11 23:30:00" \
  "2026-12-12 10:00:00" "2026-12-13 10:00:00" "2027-03-28 01:00:00" "2026-11-01 06:00:00" "2026-12-31 23:59:00" "2028-02-29 12:00:00"; do
  if faketime "$when" cargo test --locked -q -p dropflow-scenarios --test sla --test money --test order_status --test scorecards -- $filter >/tmp/faketime-suites.log 2>&1; then
    passed=$(grep -o 'ok\. [0-9]* passed' /tmp/faketime-suites.log | awk '{sum += $2} END {print sum + 0}')
    echo "$when ($(faketime "$when" date +%A)): $passed passed"
  else
    echo "$when: FAILED" >&2
    grep -E "panicked|FAILED" /tmp/faketime-suites.log | head -10 >&2
    exit 1
  fi
done
