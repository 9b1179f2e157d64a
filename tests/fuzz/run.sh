#!/usr/bin/env bash
# Replay a harness's corpus, then fuzz it for SECONDS on one core.
#   tests/fuzz/run.sh NAME SECONDS [BUILD_DIR]     (NAME: compile, bytecode, ...)
# Builds build-fuzz/ with clang (-DQUY_FUZZ=ON), configuring it the first time. New
# inputs go to build-fuzz/corpus-NAME (the seeds in tests/fuzz/corpus/NAME
# stay as they are); a crash is written as build-fuzz/crash-NAME-* and fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
NAME=$1 SECS=$2 B=${3:-build-fuzz}
[ -f "$B/CMakeCache.txt" ] ||
    CC=clang cmake -S . -B "$B" -DQUY_FUZZ=ON -DQUY_BENCH=OFF -DQUY_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$B" -j2 --target "fuzz_$NAME" >/dev/null
# the longest input tried: small rulesets compile ~10x faster than the
# shipped ones, and most of the grammar fits in a few KiB
case $NAME in compile) MAXLEN=8192 ;; bytecode) MAXLEN=131072 ;; *) MAXLEN=${QUY_FUZZ_MAXLEN:-65536} ;; esac
SEEDS=tests/fuzz/corpus/$NAME
WORK=$B/corpus-$NAME
mkdir -p "$WORK"
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# 1. replay: every seed (and every former crash kept as a seed) runs clean
"$B/tests/fuzz/fuzz_$NAME" -runs=0 "$SEEDS"
# 2. fuzz for SECONDS
"$B/tests/fuzz/fuzz_$NAME" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len="$MAXLEN" \
    -artifact_prefix="$B/crash-$NAME-" -print_final_stats=1 "$WORK" "$SEEDS"
