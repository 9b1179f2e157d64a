#!/usr/bin/env bash
# quy diff over a generated corpus: records per second, seconds, memory.
#
#   bench/diff-bench.sh [-n N] [-s SEED] [-j JOBS] [--new RULESET] [--old RULESET] [--build DIR] [--keep]
#
# Builds a Release `quy` into DIR (default build-bench), generates N records
# (default 1,000,000) with `quy gen --ruleset OLD` (default central-124,
# seed 1) into a temporary file, then times
#   quy diff OLD NEW corpus.jsonl -o /dev/null
# (NEW default: tests/golden/diff/fixture-variant.quy, a variant of
# central-124 that moves about 1 % of the records; `--jobs JOBS` when -j is
# given, else quy's default: one thread per core) and prints the elapsed,
# user and system seconds, records per second, microseconds per record, the
# peak resident set and the issue-15 target (1,000,000 records in < 5 s
# elapsed; for other N the elapsed time is scaled linearly to 1 M).
# Never run by ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
N=1000000 SEED=1 OLD=central-124 NEW=tests/golden/diff/fixture-variant.quy BUILD=build-bench KEEP=0 JOBS=
while [ $# -gt 0 ]; do
  case $1 in
    -n) N=$2; shift 2 ;;
    -s) SEED=$2; shift 2 ;;
    -j) JOBS=$2; shift 2 ;;
    --new) NEW=$2; shift 2 ;;
    --old) OLD=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [-n N] [-s SEED] [-j JOBS] [--new RULESET] [--old RULESET] [--build DIR] [--keep]" >&2; exit 1 ;;
  esac
done
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target quy >/dev/null
QUY=$BUILD/quy
T=$(mktemp -d)
[ $KEEP = 1 ] || trap 'rm -rf "$T"' EXIT
TIME=/usr/bin/time
[ -x $TIME ] || { echo "diff-bench: /usr/bin/time (Debian package 'time') is needed for the memory figure" >&2; exit 1; }

echo "quy gen --ruleset $OLD --count $N --seed $SEED"
$TIME -f "%e %U %S %M" -o "$T/gen.time" "$QUY" gen --ruleset "$OLD" --count "$N" --seed "$SEED" -o "$T/corpus.jsonl" 2>/dev/null
read -r ge gu gs gm <"$T/gen.time"
echo "  $(wc -c <"$T/corpus.jsonl") bytes; ${ge} s elapsed (${gu} s user, ${gs} s sys), peak ${gm} KB"

JOBSOPT=()
[ -n "$JOBS" ] && JOBSOPT=(--jobs "$JOBS")
echo "quy diff ${JOBSOPT[*]} $OLD $NEW ($N records)"
set +e
$TIME -f "%e %U %S %M" -o "$T/diff.time" "$QUY" diff "${JOBSOPT[@]}" "$OLD" "$NEW" "$T/corpus.jsonl" -o "$T/report.txt" 2>"$T/diff.err"
rc=$?
set -e
[ $rc = 0 ] || { echo "quy diff failed (exit $rc):"; cat "$T/diff.err"; exit 1; }
read -r de du ds dm <"$T/diff.time"
sed -n '4p' "$T/report.txt"
awk -v n="$N" -v e="$de" -v u="$du" -v s="$ds" -v m="$dm" 'BEGIN {
  printf "  %.2f s elapsed, %.2f s user, %.2f s sys; %.0f records/s elapsed, %.0f records/s of CPU; peak %.0f MB\n",
         e, u, s, (e > 0 ? n / e : 0), (u + s > 0 ? n / (u + s) : 0), m / 1024
  printf "  %.2f us/record elapsed, %.2f us/record of CPU\n", e * 1e6 / n, (u + s) * 1e6 / n
  p = e * 1000000 / n
  printf "  1 M records: %.2f s elapsed%s, target < 5 s: %s\n", p, (n == 1000000 ? "" : " (scaled linearly)"), (p < 5 ? "MET" : "MISSED") }'
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (elapsed time counts the other processes' share)"
[ $KEEP = 1 ] && echo "kept: $T (corpus.jsonl, report.txt)"
exit 0
