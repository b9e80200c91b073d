#!/usr/bin/env bash
# Plays batches of dropflow-sim on fresh seeds (printing each seed first), on the
# embedded store and, with --aws, on moto too. A seed that fails is to be added to
# sim/seeds.txt with its fix. Usage: bash scripts/sim.sh [batches (5)] [histories (100)] [--aws]
set -euo pipefail
cd "$(dirname "$0")/.."
batches=${1:-5}
histories=${2:-100}
backends=(embedded)
if [ "${3:-}" = "--aws" ]; then
  source scripts/local-aws.sh
  backends+=(aws)
fi
cargo build --locked -q -p dropflow-sim
failed=0
for _ in $(seq "$batches"); do
  seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
  for backend in "${backends[@]}"; do
    count=$histories
    [ "$backend" = aws ] && count=$(( histories / 10 > 0 ? histories / 10 : 1 ))
    echo "seed $seed ($backend, $count histories)"
    if ! target/debug/dropflow-sim --seed "$seed" --histories "$count" --backend "$backend"; then
      echo "FAILED: seed $seed on $backend: add it to sim/seeds.txt with its fix" >&2
      failed=1
    fi
  done
done
exit "$failed"
