#!/usr/bin/env bash
# `quy diff central-124 X --refines` over a generated corpus: does the local
# ruleset X rate any record higher than the regulation it implements?
#
#   refines.sh QUY RULESETS_DIR X [EXPECT]
#
# The corpus: 2000 records generated from central-124 and 2000 from X (so
# that both rulesets' boundaries are covered). With EXPECT (the ruleset's
# refines.expect, the approved upward moves), the test passes only when
# every upward move is approved (exit 0) and fails with exit 5 otherwise.
# Without it the test passes when the command runs: "REFINES OK" (exit 0,
# no record rated higher) and "REFINES LOOSER" (exit 5, records rated
# higher, listed) are told apart in the output; any other exit fails.
set -u
QUY=$1 RS=$2 X=$3 EXPECT=${4:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$QUY" gen --rulesets "$RS" --ruleset central-124 --count 2000 --seed 1 --prefix C -o "$T/c.jsonl" || exit 1
"$QUY" gen --rulesets "$RS" --ruleset "$X" --count 2000 --seed 1 --prefix V -o "$T/v.jsonl" || exit 1
args=()
[ -n "$EXPECT" ] && args=(--expect "$EXPECT")
"$QUY" diff --rulesets "$RS" central-124 "$X" "$T/c.jsonl" "$T/v.jsonl" --refines "${args[@]}" >"$T/report" 2>"$T/err"
rc=$?
sed -n '/^--refines/,$p' "$T/report" | head -200
cat "$T/err"
if [ -n "$EXPECT" ]; then
  [ $rc = 0 ] && echo "REFINES OK: every upward move approved by $EXPECT"
  exit $rc
fi
case $rc in
  0) echo "REFINES OK: no record is rated higher by $X than by central-124"; exit 0 ;;
  5) echo "REFINES LOOSER: $X rates the records above higher than central-124 (no refines.expect to approve them)"; exit 0 ;;
  *) exit $rc ;;
esac
