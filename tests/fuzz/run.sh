#!/usr/bin/env bash
# Replay a harness's corpus, then fuzz it for SECONDS (one core).
# usage: tests/fuzz/run.sh NAME SECONDS [BUILD_DIR]   (NAME: records, ...)
# Builds BUILD_DIR (default build-fuzz/) with clang -DQUY_FUZZ=ON (configured once).
# New inputs go to BUILD_DIR/fuzz-NAME/ (not the tree); crashes to
# BUILD_DIR/fuzz-NAME-crashes/ — copy a fixed crash into corpus/NAME/.
set -euo pipefail
NAME=${1:?usage: run.sh NAME SECONDS [BUILD_DIR]}
SECS=${2:?usage: run.sh NAME SECONDS [BUILD_DIR]}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${3:-$ROOT/build-fuzz}
if [ ! -f "$B/CMakeCache.txt" ]; then
  CC=clang cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUY_FUZZ=ON -DQUY_BENCH=OFF -DQUY_TESTS=OFF >/dev/null
fi
cmake --build "$B" -j"$(nproc)" --target "fuzz_$NAME" >/dev/null
EXE=$B/tests/fuzz/fuzz_$NAME
CORPUS=$ROOT/tests/fuzz/corpus/$NAME
WORK=$B/fuzz-$NAME
CRASH=$B/fuzz-$NAME-crashes
mkdir -p "$WORK" "$CRASH"
DICT=$ROOT/tests/fuzz/$NAME.dict
DARGS=()
[ -f "$DICT" ] && DARGS=(-dict="$DICT")
# 1. every corpus input (regressions included) must run clean
"$EXE" -runs=0 "${DARGS[@]}" "$CORPUS"
# 2. fuzz, new inputs kept outside the tree
# compiled rulesets are larger than source fragments
MAXLEN=8192
[ "$NAME" = bytecode ] && MAXLEN=131072
"$EXE" -max_total_time="$SECS" -max_len="$MAXLEN" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$CRASH/" "${DARGS[@]}" "$WORK" "$CORPUS"
