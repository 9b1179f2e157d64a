#!/usr/bin/env bash
# README command 2: every test. Builds and runs the whole suite (unit,
# golden, `quy test` for every ruleset, the library installed and linked as
# an integrator would) in both VM dispatch modes, then once more under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the test of one ruleset
# shared by 4 threads, the batch read on 4 threads (quy_batch_set_jobs) and
# quy eval/diff --jobs 4 under ThreadSanitizer (clang).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
(cd build && ctest --output-on-failure -j"$(nproc)")
scripts/build.sh build-san -DQUY_ASAN=ON -DQUY_UBSAN=ON -DQUY_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
(cd build-san && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$(nproc)")
CC=clang cmake -S . -B build-tsan -DQUY_TSAN=ON -DQUY_WERROR=OFF -DQUY_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-tsan -j"$(nproc)" --target test_threads test_jobs quy >/dev/null
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R '^(api\.(threads|jobs)|cli\.jobs)$')
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
