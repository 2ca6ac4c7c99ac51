#!/usr/bin/env bash
# Usage: scripts/bench-dpsgd-vs-opacus.sh [EPOCHS] [THREADS]   (defaults: 3 timed epochs, threads "1,2")
# Side by side in one run (issue 21): seconds per epoch of plain training and of DP-SGD for the MLP
# 784-128-10 and cnn-small on the bundled Fashion-MNIST subset, ours (`verisplit bench dp-speed`)
# and Opacus (../shared/bench/opacus_dpsgd.py, made once with ../shared/bench/setup.sh --torch), at
# the same batch 64, clip 1, sigma 1, one warm-up epoch then the fastest of EPOCHS. Prints the
# date and load before and after, both JSON outputs, and one table with the ratios. Run it under
# the machine's build lock (`/work/bin/heavy scripts/bench-dpsgd-vs-opacus.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
threads=${2:-1,2}
py=${VENV_TORCH:-$HOME/.venv-opacus}/bin/python
[ -x "$py" ] || { echo "run ../shared/bench/setup.sh --torch first" >&2; exit 2; }
swift build -c release --product verisplit >/dev/null
data=Sources/NeuralNet/Resources/fashion-subset
echo "start: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(uptime)"
ours=$(.build/release/verisplit bench dp-speed --json --epochs "$epochs" --threads "$threads")
ref=""
for t in ${threads//,/ }; do
  ref+=$("$py" ../shared/bench/opacus_dpsgd.py "$data" --threads "$t" --epochs "$epochs")$'\n'
done
echo "end:   $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(uptime)"
echo "ours:   $ours"
echo "opacus:"
printf '%s' "$ref"
python3 - "$ours" "$ref" <<'PY'
import json, sys
ours = {(r["model"], r["threads"]): r for r in json.loads(sys.argv[1])}
ref = {}
for line in sys.argv[2].splitlines():
    if line.strip():
        r = json.loads(line)
        ref[(r["model"], r["threads"])] = r
print("| model | threads | plain s/epoch (ours / Opacus) | DP-SGD s/epoch (ours / Opacus) | DP-SGD / plain (ours / Opacus) | our DP-SGD / Opacus DP-SGD |")
print("| --- | --- | --- | --- | --- | --- |")
for key in sorted(ours):
    o, r = ours[key], ref.get(key)
    if r is None:
        print(f"| {key[0]} | {key[1]} | {o['plain_epoch_s']:.3f} / - | {o['dpsgd_epoch_s']:.3f} / - | {o['ratio']:.2f} / - | - |")
        continue
    print(f"| {key[0]} | {key[1]} | {o['plain_epoch_s']:.3f} / {r['plain_epoch_s']:.3f} | "
          f"{o['dpsgd_epoch_s']:.3f} / {r['dpsgd_epoch_s']:.3f} | {o['ratio']:.2f} / {r['ratio']:.2f} | "
          f"{o['dpsgd_epoch_s'] / r['dpsgd_epoch_s']:.2f} |")
PY
