#!/usr/bin/env bash
# Parser inputs that once read uninitialised memory: `quy check` must give
# its syntax error (exit 1) with valgrind reporting nothing (exit 99).
#   run.sh VALGRIND QUY DIR
set -u
VG=$1 QUY=$2 DIR=$3
fails=0
for f in "$DIR"/*.quy; do
    out=$("$VG" -q --error-exitcode=99 "$QUY" check "$f" 2>&1); rc=$?
    if [ $rc -ne 1 ] || ! grep -q "error: unexpected end of file" <<<"$out"; then
        echo "FAIL $f: exit $rc"; echo "$out" | head -20; fails=$((fails + 1))
    else
        echo "ok   $f"
    fi
done
exit $fails
