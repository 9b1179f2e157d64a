#!/usr/bin/env bash
# The worked `quy diff central-124 central-366` of docs/diff-124-366/:
# what changes when a rating office moves from Quy định 124-QĐ/TW to
# 366-QĐ/TW (issue 17, item 6). Regenerates, from the rulesets alone:
#
#   OUT/summary.txt   the text report without its per-record list
#                     (transition matrices, causes, by kind, by peer group)
#   OUT/report.html   the self-contained HTML report (every moved record)
#
#   scripts/diff-124-366.sh QUY RULESETS_DIR OUT
#
# The corpus: `quy gen` draws N records from central-124 and N from
# central-366 (seeded, so the same every run), on each ruleset's
# boundaries; record i of kind K from 366 is merged with the next 124
# record of kind K (366's fields win on the fields both read, so the task
# counts agree for both rulesets; a collective's sub_units_total is raised
# to its number of sub-unit discipline cases so that 124's own check
# holds). Each record then carries both the 124 criteria grades and the 366
# score: independent draws, not one person measured twice — the report
# shows which rules move records and why, not how many people a real
# office would see move. tests/CMakeLists.txt runs this into a temporary
# folder and compares with docs/diff-124-366 (test doc.diff-124-366): run
# it with OUT=docs/diff-124-366 after changing either ruleset.
set -euo pipefail
QUY=$(realpath "$1") RS=$(realpath "$2") OUT=$3
N=${N:-300}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT"
"$QUY" gen --rulesets "$RS" --ruleset central-124 --count "$N" --seed 17 -o "$T/a.jsonl" 2>/dev/null
"$QUY" gen --rulesets "$RS" --ruleset central-366 --count "$N" --seed 17 --prefix R366 -o "$T/b.jsonl" 2>/dev/null
jq -c -n --slurpfile a "$T/a.jsonl" --slurpfile b "$T/b.jsonl" '
  ($a | group_by(.kind) | map({key: .[0].kind, value: .}) | from_entries) as $A
  | reduce $b[] as $r ({out: [], n: {}};
      .n[$r.kind] = ((.n[$r.kind] // -1) + 1)
      | .out += [$A[$r.kind][.n[$r.kind] % ($A[$r.kind] | length)] + $r])
  | .out[]
  | if has("sub_units_total") then
      .sub_units_total = ([.sub_units_total, ([.discipline_cases[]? | select(.who == "sub_unit")] | length)] | max)
    else . end' >"$T/corpus.jsonl"
cd "$T"
rc=0
"$QUY" diff --rulesets "$RS" central-124 central-366 corpus.jsonl >report.txt 2>/dev/null || rc=$?
[ $rc = 0 ] || { echo "quy diff (text) exited $rc" >&2; exit 1; }
"$QUY" diff --rulesets "$RS" central-124 central-366 corpus.jsonl --format html -o report.html 2>/dev/null || rc=$?
[ $rc = 0 ] || { echo "quy diff (html) exited $rc" >&2; exit 1; }
cd - >/dev/null
# the per-record list (the HTML report has it) is left out of the summary
sed '/^Bản ghi thay đổi (moved records)/,$d' "$T/report.txt" >"$OUT/summary.txt"
cp "$T/report.html" "$OUT/report.html"
