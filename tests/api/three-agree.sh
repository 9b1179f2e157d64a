#!/usr/bin/env bash
# quy eval, quy test and the library (quy_rate_json) rate a record of a
# ruleset with a cap the same way (the cap is applied by all three), as
# tests/api/cap/expected.out says.   three-agree.sh QUY RATE_ONE DIR
set -u
QUY=$1 RATE_ONE=$2 DIR=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
  echo "eval: $("$QUY" eval --rulesets "$DIR" --ruleset three-agree --format jsonl "$DIR/records.jsonl" 2>/dev/null |
                 grep -o '"id":"[^"]*","kind":"[^"]*","tier":"[^"]*","eligible_tier":"[^"]*","flags":\[{"code":"[a-z_]*"')"
  echo "test: $("$QUY" test --rulesets "$DIR" three-agree 2>/dev/null | tail -1)"
  echo "library: $("$RATE_ONE" "$DIR" three-agree <"$DIR/records.jsonl")"
} >"$out"
diff -u "$DIR/expected.out" "$out"
