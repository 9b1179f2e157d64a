#!/usr/bin/env bash
# jobs-bench.sh — how `quy eval --jobs N` shares its work between the
# calling thread (splitting lines, ids, the batch, writing in order) and
# the workers (decoding, checks, rating, formatting the output), and how
# fast it is (bench/README.md, "--jobs: the calling thread").
#
#   bench/jobs-bench.sh [-b BUILD] [--n N] [--cg N] [--quy QUY]... [--no-cg]
#
#   -b BUILD   build directory with quy and bench/ (default build-bench,
#              Release with -DQUY_BENCH=ON)
#   --n N      records for the timed runs (default 200000), from quy-bench
#              --dump (mixed members and leaders), plus a quy-batch-gen
#              batch of about 2.5 N records (roll-ups and quotas)
#   --cg N     records for the instruction counts (default 5000)
#   --quy Q    a quy binary to measure (repeatable, e.g. a build of an older
#              commit to compare with; default BUILD/quy)
#   --no-cg    skip valgrind
#
# Instruction counts (valgrind --tool=callgrind --separate-threads=yes) are
# deterministic: the calling thread's and all threads' instructions a
# record, for --jobs 1 and 2, with and without --explain. Times are the
# least of 3 runs (wall, and user + system CPU of all threads) with the
# load average beside them: on a shared machine only the counts compare.
# Never run by ctest: by hand.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build-bench
N=200000
CGN=5000
CG=1
QUYS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -b) BUILD=$2; shift 2 ;;
    --n) N=$2; shift 2 ;;
    --cg) CGN=$2; shift 2 ;;
    --quy) QUYS+=("$2"); shift 2 ;;
    --no-cg) CG=0; shift ;;
    *) sed -n '2,24p' "$0" >&2; exit 2 ;;
  esac
done
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
[ ${#QUYS[@]} -gt 0 ] || QUYS=("$BUILD/quy")
for x in "${QUYS[@]}" "$BUILD/bench/quy-bench" "$BUILD/bench/quy-batch-gen"; do
  [ -x "$x" ] || { echo "jobs-bench: $x not built (cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DQUY_BENCH=ON)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "jobs-bench: /usr/bin/time (package time) is needed" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/quy-jobs-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

"$BUILD/bench/quy-bench" --n "$N" --reps 1 --no-cli --no-hooks --dump "$T/mixed.jsonl" > /dev/null
"$BUILD/bench/quy-batch-gen" --members $((N * 5 / 2)) --cells $((N / 40 > 1 ? N / 40 : 1)) -o "$T/batch.jsonl" 2> /dev/null
head -n "$CGN" "$T/mixed.jsonl" > "$T/cg-mixed.jsonl"
head -n "$CGN" "$T/batch.jsonl" > "$T/cg-batch.jsonl"
eval_args=(eval --ruleset central-124 --rulesets "$SRC/rulesets" --format jsonl)

if [ "$CG" = 1 ] && command -v valgrind > /dev/null; then
  echo "== instructions a record (callgrind; the calling thread, all threads; startup included)"
  for q in "${QUYS[@]}"; do
    for input in cg-mixed cg-batch; do
      for x in "" --explain; do
        [ "$input" = cg-batch ] && [ -n "$x" ] && continue
        for j in 1 2; do
          rm -f "$T"/cg.out*
          valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$T/cg.out" \
            "$q" "${eval_args[@]}" --jobs "$j" $x "$T/$input.jsonl" > /dev/null 2>&1 || true
          first=$(ls "$T"/cg.out-* | sort | head -1)
          main=$(awk '/^totals/ {print $2}' "$first")
          all=$(cat "$T"/cg.out-* | awk '/^totals/ {s += $2} END {printf "%.0f", s}')
          n=$(wc -l < "$T/$input.jsonl")
          printf '   %-40s %-9s %-9s --jobs %s  calling thread %7.0f  all %7.0f  (%2.0f %%)\n' "$q" "$input" \
            "${x:-plain}" "$j" "$(echo "$main / $n" | bc -l)" "$(echo "$all / $n" | bc -l)" "$(echo "100 * $main / $all" | bc -l)"
        done
      done
    done
  done
fi

echo "== time (least of 3: wall, CPU of all threads; load average at the end)"
for q in "${QUYS[@]}"; do
  for input in mixed batch; do
    for j in 1 2; do
      bw=; bc_=; rss=0
      for r in 1 2 3; do
        /usr/bin/time -f "%e %U %S %M" -o "$T/time" "$q" "${eval_args[@]}" --jobs "$j" "$T/$input.jsonl" > /dev/null 2>&1 || true
        read -r w u s m < "$T/time"
        c=$(echo "$u + $s" | bc -l)
        if [ -z "$bw" ] || [ "$(echo "$w < $bw" | bc -l)" = 1 ]; then bw=$w; fi
        if [ -z "$bc_" ] || [ "$(echo "$c < $bc_" | bc -l)" = 1 ]; then bc_=$c; fi
        [ "$m" -gt "$rss" ] && rss=$m
      done
      n=$(wc -l < "$T/$input.jsonl")
      printf '   %-40s %-6s --jobs %s  wall %6.2f s (%4.0f k rec/s)  CPU %6.2f s (%5.0f ns/rec)  peak RSS %4.0f MB  load %s\n' \
        "$q" "$input" "$j" "$bw" "$(echo "$n / $bw / 1000" | bc -l)" "$bc_" "$(echo "$bc_ * 1000000000 / $n" | bc -l)" \
        "$(echo "$rss / 1024" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done
