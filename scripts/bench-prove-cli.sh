#!/usr/bin/env bash
# Usage: scripts/bench-prove-cli.sh LOG2_CONSTRAINTS [REPS] [VERISPLIT_BINARY]
# Whole-process `verisplit prove` (reading and validating proving.key, reading the witness,
# proving, writing proof.json) against the in-memory proof of `verisplit bench groth16` on the
# same squaring chain, in one run; prints both, their ratio, peak memory and the load average.
# The binary defaults to .build/release/verisplit (build it first, under the heavy lock).
set -euo pipefail
cd "$(dirname "$0")/.."
k=${1:?usage: $0 LOG2_CONSTRAINTS [REPS] [VERISPLIT_BINARY]}
reps=${2:-3}
bin=${3:-.build/release/verisplit}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "$(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
memory=$("$bin" bench groth16 --constraints $((1 << k)) --repetitions "$reps" --export "$dir/chain" --json)
"$bin" setup "$dir/chain.r1cs" --out "$dir/keys" >/dev/null
best=999999
for _ in $(seq "$reps"); do
  /usr/bin/time -f "%e %M" -o "$dir/time" "$bin" prove --key "$dir/keys/proving.key" --witness "$dir/chain.wtns" \
    --proof "$dir/proof.json" --public "$dir/public.json" >/dev/null
  read -r wall rss < "$dir/time"
  best=$(python3 -c "print(min($best, $wall))")
done
"$bin" verify --vk "$dir/keys/verification_key.json" --proof "$dir/proof.json" --public "$dir/public.json" >/dev/null
echo "in memory: $memory"
python3 - "$memory" "$best" "$rss" "$(stat -c %s "$dir/keys/proving.key")" <<'PY'
import json, sys
m, cli, rss, size = json.loads(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"verisplit prove (whole process, best): {cli:.2f} s, peak {rss / 1024:.0f} MiB, key {size / 1e6:.1f} MB")
print(f"ratio whole process / in-memory prove: {cli / m['prove_s']:.2f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
