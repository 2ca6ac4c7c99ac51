#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [TARGET...] [--seconds N] [--list] [--make-seeds] [-- LIBFUZZER_ARGS...]
# Fuzzes VeriSplit's parsers with libFuzzer + AddressSanitizer, each TARGET (default: all, see
# --list) for N seconds (default 60), one after another. Harnesses: scripts/fuzz/ (a separate
# package depending on this one by path; one binary, targets in Targets.swift). Build and work
# files go to .build-fuzz: the growing corpus to .build-fuzz/corpus/TARGET, findings (crash-*,
# timeout-*, oom-*) to .build-fuzz/artifacts/TARGET/. Committed seeds: scripts/fuzz/corpus/TARGET,
# rewritten by --make-seeds. Limits: -timeout=10 s per input (hangs), -rss_limit_mb=2048 and
# -malloc_limit_mb=64 (unbounded allocation). Replay a finding: scripts/fuzz.sh TARGET -- FILE.
# Exit status 1 if any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60 list=0 seeds=0 targets=() extra=()
while (($#)); do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --list) list=1; shift ;;
        --make-seeds) seeds=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done

scratch=.build-fuzz
swift build -c release -j 1 --package-path scripts/fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
bin="$scratch/release/verisplit-fuzz"
export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" SWIFT_BACKTRACE=enable=no
table=$(VERISPLIT_FUZZ_LIST=1 "$bin")
if ((list)); then echo "$table"; exit 0; fi
if ((seeds)); then
    rm -rf scripts/fuzz/corpus
    VERISPLIT_FUZZ_SEEDS=scripts/fuzz/corpus "$bin"
    for f in scripts/fuzz/corpus/idx/*.idx; do gzip -9nc "$f" >"$f.gz"; done
    du -sh scripts/fuzz/corpus
    exit 0
fi
((${#targets[@]})) || mapfile -t targets < <(cut -d' ' -f1 <<<"$table")

status=0
summary=()
for t in "${targets[@]}"; do
    max_len=$(awk -v t="$t" '$1 == t { print $2 }' <<<"$table")
    [[ -n "$max_len" ]] || { echo "unknown target '$t'; known: $(cut -d' ' -f1 <<<"$table" | xargs)" >&2; exit 2; }
    mkdir -p "$scratch/corpus/$t" "$scratch/artifacts/$t"
    log="$scratch/artifacts/$t/fuzz.log"
    args=(-max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=64 -detect_leaks=0
          -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$t/")
    if ((${#extra[@]})); then
        VERISPLIT_FUZZ_TARGET="$t" "$bin" "${args[@]}" "${extra[@]}" || status=1
        continue
    fi
    echo "== $t: ${seconds}s" >&2
    if ! VERISPLIT_FUZZ_TARGET="$t" "$bin" "${args[@]}" -max_total_time="$seconds" \
            "$scratch/corpus/$t" "scripts/fuzz/corpus/$t" >"$log" 2>&1; then
        status=1
        grep -E "ERROR|Fatal error|panic|SUMMARY|Test unit written" "$log" >&2 || tail -20 "$log" >&2
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    summary+=("$t: ${runs:-?} runs, ${rate:-?} exec/s, corpus $(ls "$scratch/corpus/$t" | wc -l) files")
done
((${#summary[@]})) && printf '%s\n' "${summary[@]}"
exit "$status"
