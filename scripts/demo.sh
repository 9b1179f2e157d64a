#!/usr/bin/env bash
# README command 1: install what is missing, build, and rate the bundled
# sample records with the central regulation, as a readable table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
build/quy eval --ruleset central-124 --format table rulesets/central-124/samples/records.jsonl
