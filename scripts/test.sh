#!/usr/bin/env bash
# README command 2: every test. Builds and runs the whole suite (unit,
# golden, `quy test` for every ruleset) in both VM dispatch modes, then once
# more under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
(cd build && ctest --output-on-failure -j"$(nproc)")
scripts/build.sh build-san -DQUY_ASAN=ON -DQUY_UBSAN=ON -DQUY_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
(cd build-san && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$(nproc)")
# Fuzz harnesses (tests/fuzz/fuzz_*.c): replay each corpus, then fuzz a minute (needs clang)
if command -v clang >/dev/null; then
  for h in tests/fuzz/fuzz_*.c; do
    [ -e "$h" ] || continue
    n=$(basename "$h" .c); n=${n#fuzz_}
    mkdir -p build-fuzz
    tests/fuzz/run.sh "$n" "${QUY_FUZZ_SECONDS:-60}" build-fuzz > "build-fuzz/run-$n.log" 2>&1 \
      || { tail -40 "build-fuzz/run-$n.log"; exit 1; }
    grep -E '^(Done|stat::)' "build-fuzz/run-$n.log" || true
  done
fi
