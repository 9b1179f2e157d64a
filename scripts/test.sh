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
# libFuzzer harnesses (tests/fuzz): replay each corpus, then fuzz 60 s each.
if command -v clang >/dev/null; then
  for h in tests/fuzz/fuzz_*.c; do
    n=$(basename "$h" .c); tests/fuzz/run.sh "${n#fuzz_}" 60
  done
fi
