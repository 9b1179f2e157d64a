#!/usr/bin/env bash
# tests/prove/run.sh QUY SRC — `quy prove` as a tester uses it (ctest: prove.*).
# Every shipped variant of central-124 is proved to refine it (or its
# findings are approved in tests/prove/expect/), central-124's gaps and dead
# clauses match their approval files, and the fixtures in tests/prove/rulesets
# show each answer both ways (proved, and found with a VM-confirmed witness).
set -uo pipefail
QUY=$1
SRC=$2
R=(--rulesets "$SRC/tests/prove/rulesets" --rulesets "$SRC/rulesets")
E=$SRC/tests/prove/expect
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0

# expect NAME WANT_RC GREP_PATTERN -- ARGS...: run quy prove ARGS, check the
# exit status and (when not empty) that the output has the pattern.
expect() {
  local name=$1 want=$2 pat=$3
  shift 4
  "$QUY" prove "${R[@]}" "$@" >"$T/out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ] || { [ -n "$pat" ] && ! grep -q -- "$pat" "$T/out"; }; then
    echo "FAIL $name: exit $rc (want $want), pattern '$pat'"
    sed -n 1,40p "$T/out"
    fails=$((fails + 1))
  else
    echo "ok   $name"
    pass=$((pass + 1))
  fi
}

# Shipped rulesets, with their approval files.
expect central-124.gaps 0 "ĐÃ CHỨNG MINH" -- central-124 --gaps --expect "$E/central-124.gaps"
expect central-124.dead 0 "ĐÃ CHỨNG MINH" -- central-124 --dead --expect "$E/central-124.dead"
for v in ha-tinh-city-2023 cho-chu-2024 duc-pho-hdnd-2022; do
  expect "$v.refines" 0 "" -- "$v" --refines central-124 --expect "$E/$v.refines"
done
# every gap central-124's docs name is found, each with a witness
for g in $(grep -o '^| `gap_[a-z0-9_]*`' "$SRC/docs/rulesets/central-124.md" | tr -d '|` '); do
  expect "central-124.gap.$g" 5 "gap $g" -- central-124 --gaps
done
expect central-124.equiv-self 0 "ĐÃ CHỨNG MINH" -- central-124 --equiv central-124
# central-366 (provisional): its gaps and dead clauses as approved; every gap its docs
# name is found; the 25 % quota variant changes no rate block
expect central-366.gaps 0 "ĐÃ CHỨNG MINH" -- central-366 --gaps --expect "$E/central-366.gaps"
expect central-366.dead 0 "ĐÃ CHỨNG MINH" -- central-366 --dead --expect "$E/central-366.dead"
for g in $(grep -o '^| `gap_[a-z0-9_]*`' "$SRC/docs/rulesets/central-366.md" | tr -d '|` '); do
  expect "central-366.gap.$g" 5 "gap $g" -- central-366 --gaps
done
expect central-366-ty-le-25.refines 0 "ĐÃ CHỨNG MINH" -- central-366-ty-le-25 --refines central-366

# Fixtures: each answer both ways.
expect fixture.loose-narrow 5 "member looser htnv->httnv" -- loose-narrow --refines central-124
expect fixture.tight 0 "ĐÃ CHỨNG MINH" -- tight --refines central-124
expect fixture.dead-rule 5 "member dead-rule khong_the" -- dead-rule --dead
expect fixture.dead-none 0 "ĐÃ CHỨNG MINH" -- gaps-open --dead
expect fixture.equiv-moves 5 "member transition htxsnv->httnv" -- tight --equiv central-124
expect fixture.gaps-complete 0 "the list of gaps is complete (proved)" -- gaps-complete --gaps
expect fixture.gaps-open.named 5 "member gap khong_co_nhiem_vu" -- gaps-open --gaps
expect fixture.gaps-open.unnamed 5 "member gap (none)" -- gaps-open --gaps
expect fixture.json 5 '"status":"found"' -- loose-narrow --refines central-124 --format json
# an approval that no longer matches is reported, an unapproved finding fails
printf 'member looser khtnv->httnv\n' >"$T/partial"
expect fixture.partial-approval 5 "member looser htnv->httnv" -- loose-narrow --refines central-124 --expect "$T/partial"
# The VM check bites: a deliberately wrong expectation is an encoding bug (exit 1).
expect fixture.seeded-mismatch 1 "encoding bug" -- loose-narrow --refines central-124 --seed-mismatch
# Usage errors say what to write.
expect usage.no-question 1 "which question" -- central-124
expect usage.timeout 1 "whole number of seconds" -- central-124 --gaps --timeout 1.5

# The loosening the prover finds is one a 10,000-record `quy gen` corpus misses.
"$QUY" gen "${R[@]}" --ruleset loose-narrow --count 10000 --seed 1 -o "$T/corpus.jsonl" 2>/dev/null
"$QUY" diff "${R[@]}" central-124 loose-narrow "$T/corpus.jsonl" --refines >"$T/diff" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "ok   gen-misses-it (quy diff --refines over 10,000 generated records: exit 0)"
  pass=$((pass + 1))
elif [ "$rc" -eq 5 ]; then
  echo "FAIL gen-misses-it: quy diff --refines found the loosening (exit 5); make the fixture narrower"
  fails=$((fails + 1))
else
  echo "FAIL gen-misses-it: quy gen / quy diff failed (exit $rc)"
  tail -5 "$T/diff"
  fails=$((fails + 1))
fi

# What the testing guide shows `quy prove` printing, it still prints.
awk '/<!-- prove-example:/{f=1; next} f && /^```$/{if (n++) exit; next} f && n' "$SRC/docs/testing-guide.md" >"$T/doc"
"$QUY" prove --rulesets "$SRC/tests/prove/rulesets" gaps-open --gaps >"$T/now" 2>&1
if [ -s "$T/doc" ] && diff -u "$T/doc" "$T/now"; then
  echo "ok   docs/testing-guide.md 7.1 example"
  pass=$((pass + 1))
else
  echo "FAIL docs/testing-guide.md 7.1 example differs from what quy prove prints (diff above)"
  fails=$((fails + 1))
fi

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
