#!/usr/bin/env bash
# Write docs/records.md: docs/records.md.in with its @FIELDS@ line replaced
# by `quy describe --fields` over rulesets/ (every rulesets/NAME/NAME.quy).
#   scripts/records-md.sh [QUY [OUT]]   (default build/quy, docs/records.md;
#                                        OUT = - prints to stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
QUY=${1:-build/quy}
OUT=${2:-docs/records.md}
fields=$(mktemp)
trap 'rm -f "$fields"' EXIT
"$QUY" describe --fields --rulesets rulesets >"$fields"
gen() {
  while IFS= read -r line; do
    if [ "$line" = "@FIELDS@" ]; then cat "$fields"; else printf '%s\n' "$line"; fi
  done <docs/records.md.in
}
if [ "$OUT" = - ]; then gen; else gen >"$OUT"; fi
