#!/usr/bin/env bash
# README command 1: install what is missing, build, and rate the bundled
# sample records with the central regulation, as a readable table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
# The samples include one invalid record on purpose: it is reported and
# the rest are rated, so exit status 2 ("some records rejected") is expected.
rc=0
build/quy eval --ruleset central-124 --format table rulesets/central-124/samples/records.jsonl || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
