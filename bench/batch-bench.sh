#!/usr/bin/env bash
# batch-bench.sh — the batch benchmark (bench/README.md, "The batch benchmark").
#
# Generates a party-sized batch (quy-batch-gen: 5,500,000 members in 50,000
# chi bộ under 5,000 đảng bộ, peer groups per chi bộ / đảng bộ / district)
# into a temporary file, rates it with
#   quy eval --ruleset central-124 --format jsonl
# under /usr/bin/time -v (roll-ups and quotas included), then probes the
# batch engine's compact state with quy-batch-mem, prints the figures and
# deletes the files. Never run by ctest or CI: by hand, on an idle machine.
#
#   bench/batch-bench.sh [-b BUILD] [--members N] [--cells C] [--seed S]
#                        [--tmp DIR] [--no-mem] [--keep]
#
#   -b BUILD     build directory with quy and bench/ (default: build-bench,
#                configured with -DCMAKE_BUILD_TYPE=Release)
#   --members N  member records (default 5500000)
#   --cells C    chi bộ (default 50000)
#   --seed S     generator seed (default 42)
#   --tmp DIR    where the input and output go (default: $TMPDIR or /tmp;
#                about 2.6 GB in and 1.5 GB out at the default size)
#   --no-mem     skip the quy-batch-mem probe (a second read of the input)
#   --keep       keep the files (their paths are printed)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build-bench
MEMBERS=5500000
CELLS=50000
SEED=42
TMP=${TMPDIR:-/tmp}
MEM=1
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    -b) BUILD=$2; shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    --cells) CELLS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --tmp) TMP=$2; shift 2 ;;
    --no-mem) MEM=0; shift ;;
    --keep) KEEP=1; shift ;;
    *) sed -n '2,24p' "$0" >&2; exit 2 ;;
  esac
done
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
QUY=$BUILD/quy
GEN=$BUILD/bench/quy-batch-gen
PROBE=$BUILD/bench/quy-batch-mem
for x in "$QUY" "$GEN" "$PROBE"; do
  if [ ! -x "$x" ]; then
    echo "batch-bench: $x not built (cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release &&" \
         "cmake --build build-bench -j2)" >&2
    exit 2
  fi
done
[ -x /usr/bin/time ] || { echo "batch-bench: /usr/bin/time (package time) is needed" >&2; exit 2; }

WORK=$(mktemp -d "$TMP/quy-batch-bench.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
IN=$WORK/batch.jsonl
OUT=$WORK/results.jsonl

echo "== generating ($MEMBERS members, $CELLS chi bộ, seed $SEED)"
t0=$(date +%s.%N)
"$GEN" --members "$MEMBERS" --cells "$CELLS" --seed "$SEED" -o "$IN"
t1=$(date +%s.%N)
RECORDS=$(wc -l < "$IN")
printf '   %s records, %.1f MB, generated in %.1f s\n' "$RECORDS" \
  "$(echo "$(stat -c %s "$IN") / 1048576" | bc -l)" "$(echo "$t1 - $t0" | bc -l)"

echo "== quy eval --ruleset central-124 --format jsonl (roll-ups, quotas) > file"
rc=0
/usr/bin/time -v -o "$WORK/time.txt" "$QUY" eval --ruleset central-124 --rulesets "$SRC/rulesets" \
  --format jsonl "$IN" > "$OUT" 2> "$WORK/stderr.txt" || rc=$?
if [ "$rc" != 0 ]; then
  echo "batch-bench: quy eval exited $rc (2 = some record rejected):" >&2
  head -20 "$WORK/stderr.txt" >&2
  exit 1
fi
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
user=$(sed -n 's/.*User time (seconds): //p' "$WORK/time.txt")
sys=$(sed -n 's/.*System time (seconds): //p' "$WORK/time.txt")
cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$WORK/time.txt")
lines=$(wc -l < "$OUT")
demoted=$(grep -c '"quota_demoted"' "$OUT" || true)
norg=$(grep -c '"kind":"party_org"' "$OUT" || true)
printf '   wall %.1f s (user %s s, sys %s s, cpu %s), %.0f records/s\n' "$secs" "$user" "$sys" "$cpu" \
  "$(echo "$RECORDS / $secs" | bc -l)"
printf '   peak RSS %.1f MB = %.0f bytes/record (whole process: program, I/O buffers, batch)\n' \
  "$(echo "$rss_kb / 1024" | bc -l)" "$(echo "$rss_kb * 1024 / $RECORDS" | bc -l)"
printf '   %s results written, %s demoted by the quota, %s party_org (member_tiers rolled up from the batch)\n' \
  "$lines" "$demoted" "$norg"
echo "   tiers (final):"
grep -o '"tier":"[a-z_]*"' "$OUT" | sort | uniq -c | sed 's/^/     /'
rm -f "$OUT"

if [ "$MEM" = 1 ]; then
  echo "== quy-batch-mem (the batch engine alone: compact state per record)"
  "$PROBE" --rulesets "$SRC/rulesets" "$IN" | sed 's/^/   /'
fi
