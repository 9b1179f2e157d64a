#!/usr/bin/env bash
# quy diff --jobs: JSON Lines decoded on 4 threads give exactly the report,
# the approval file and the messages of one thread, for a corpus from
# `quy gen` (records on the rules' boundaries, hooks included: cho-chu-2024
# and ha-tinh-city-2023 call rulesets/hooks/kiem_nhiem.lua) spanning many
# blocks, with invalid JSON, blank and CRLF lines, escapes, unknown fields
# and duplicate ids mixed in; and `quy eval --jobs` the same way.
#   diff-jobs.sh QUY RULESETS_DIR
set -euo pipefail
QUY=$1
RS=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
for pair in "central-124 ha-tinh-city-2023" "central-124 cho-chu-2024"; do
  set -- $pair
  "$QUY" gen --rulesets "$RS" --ruleset "$2" --count 2500 --seed 7 -o "$T/c.jsonl" 2>/dev/null
  {
    head -700 "$T/c.jsonl"
    printf '{"id": "BAD", "kind": "member",\n\n   \n'
    sed -n '10p' "$T/c.jsonl" | sed 's/^{/{"zz_unknown": 1, /'
    sed -n '11p' "$T/c.jsonl" | sed 's/$/\r/'
    sed -n '12p' "$T/c.jsonl"                                   # a duplicate id
    printf '{"id": "ESC-\\u0041\\u1ec7", "kind": "member", "peer_group": "g\\"1"}\n'
    printf '{"id": "NUL-\\u0000", "kind": "member"}\n'
    printf '{"id": "BIG", "kind": "member", "tasks_total": 1e400}\n'
    tail -n +701 "$T/c.jsonl"
  } > "$T/in.jsonl"
  for j in 1 4; do
    "$QUY" diff --jobs $j --rulesets "$RS" "$1" "$2" "$T/in.jsonl" --format json -o "$T/d$j.json" \
      --write-expect "$T/e$j.expect" 2> "$T/err$j.txt" || true
    "$QUY" eval --jobs $j --rulesets "$RS" --ruleset "$2" --explain "$T/in.jsonl" > "$T/v$j.jsonl" 2> "$T/verr$j.txt" || true
  done
  for f in d%s.json e%s.expect err%s.txt v%s.jsonl verr%s.txt; do
    a=$(printf "$f" 1); b=$(printf "$f" 4)
    if ! cmp -s "$T/$a" "$T/$b"; then
      echo "FAIL $1 -> $2: $a and $b differ (--jobs 1 / --jobs 4)"; diff "$T/$a" "$T/$b" | head -5; fail=1
    fi
  done
  grep -q '"bad_json"\|bad_json' "$T/d1.json" "$T/verr1.txt" || { echo "FAIL: no invalid line in the corpus"; fail=1; }
  grep -q 'zz_unknown' "$T/err1.txt" || { echo "FAIL: no unknown-field warning"; fail=1; }
  [ "$(wc -l < "$T/v1.jsonl")" -gt 2000 ] || { echo "FAIL: too few records rated"; fail=1; }
done
[ $fail = 0 ] && echo "ok: quy diff and quy eval, --jobs 1 and --jobs 4 agree"
exit $fail
