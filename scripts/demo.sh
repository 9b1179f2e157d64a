#!/usr/bin/env bash
# README command 1: install what is missing, build, and rate the bundled
# sample records as readable tables: the 2026 round with the ruleset in
# force nationally today (chosen by the registry: central-366, provisional),
# then the 2024 round with central-124.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
# Exit status 2 ("some records rejected") is expected for the 124 samples:
# they include one invalid record on purpose; it is reported and the rest
# are rated.
ok() { [ "$1" -eq 0 ] || [ "$1" -eq 2 ]; }
echo "== Kỳ đánh giá 2026 (2026 round): the ruleset in force for viet-nam on 2026-12-01"
rc=0
build/quy eval --locality viet-nam --at 2026-12-01 --format table rulesets/central-366/samples/records.jsonl || rc=$?
ok "$rc"
echo
echo "== Kỳ đánh giá 2024 (2024 round): central-124"
rc=0
build/quy eval --ruleset central-124 --format table rulesets/central-124/samples/records.jsonl || rc=$?
ok "$rc"
