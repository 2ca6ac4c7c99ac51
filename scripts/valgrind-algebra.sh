#!/usr/bin/env bash
# Usage: scripts/valgrind-algebra.sh
# Runs the GMP-heavy Algebra tests under valgrind and prints the leak summary; GMP memory is
# owned by BigInt (freed in deinit), so no leak may name __gmpz_* frames.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --build-tests >/dev/null
log=$(mktemp)
valgrind --leak-check=full .build/release/VeriSplitPackageTests.xctest AlgebraTests.FieldTests >"$log" 2>&1 || true
grep -A6 "LEAK SUMMARY" "$log"
if grep -q "__gmpz" "$log"; then echo "GMP leak found: see $log"; exit 1; fi
echo "no GMP allocation leaked"
