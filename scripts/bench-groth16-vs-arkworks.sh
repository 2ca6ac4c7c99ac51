#!/usr/bin/env bash
# Usage: scripts/bench-groth16-vs-arkworks.sh LOG2_CONSTRAINTS [REPS]
# Side by side in one run: our Groth16 (verisplit bench groth16) and arkworks (through the
# reference scripts in ../shared/bench, set up once with ../shared/bench/setup.sh) on the same
# squaring-chain .r1cs/.wtns. Prints both JSON lines and the prove/setup ratios (ours / arkworks).
set -euo pipefail
cd "$(dirname "$0")/.."
k=${1:?usage: $0 LOG2_CONSTRAINTS [REPS]}
reps=${2:-3}
py=${VENV:-$HOME/.venv-bench}/bin/python
[ -x "$py" ] || { echo "run ../shared/bench/setup.sh first" >&2; exit 2; }
swift build -c release --product verisplit >/dev/null
base=$(mktemp -d)/chain
ours=$(.build/release/verisplit bench groth16 --constraints $((1 << k)) --repetitions "$reps" --export "$base" --json)
ark=$("$py" ../shared/bench/arkworks_groth16.py "$base.r1cs" "$base.wtns" "$reps")
echo "ours:     $ours"
echo "arkworks: $ark"
python3 - "$ours" "$ark" <<'PY'
import json, sys
o, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"prove ratio (ours/arkworks): {o['prove_s'] / a['prove_s']:.3f}")
print(f"setup ratio (ours/arkworks): {o['setup_s'] / a['setup_s']:.3f}")
PY
rm -rf "$(dirname "$base")"
