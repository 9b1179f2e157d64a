#!/usr/bin/env bash
# ctest doc.diff-124-366: docs/diff-124-366/{summary.txt,report.html} are
# exactly what scripts/diff-124-366.sh generates from the shipped rulesets
# today (so the worked 124 → 366 diff in the docs cannot drift).
#   doc-diff-124-366.sh QUY SOURCE_DIR
set -u
QUY=$1 SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
bash "$SRC/scripts/diff-124-366.sh" "$QUY" "$SRC/rulesets" "$T" || exit 1
rc=0
for f in summary.txt report.html; do
  if ! cmp -s "$T/$f" "$SRC/docs/diff-124-366/$f"; then
    echo "docs/diff-124-366/$f is out of date; regenerate: scripts/diff-124-366.sh build/quy rulesets docs/diff-124-366"
    diff -u "$SRC/docs/diff-124-366/$f" "$T/$f" | head -40
    rc=1
  fi
done
[ $rc = 0 ] && echo "docs/diff-124-366 up to date"
exit $rc
