#!/usr/bin/env bash
# Golden end-to-end tests, run by ctest against both CLIs (goto and switch VM).
#
#   tests/golden/check/*.quy   rulesets with expected diagnostics, written in
#                              the file itself, Wren-style:
#                                -- expect error: 12:7: unknown field 'x'; did you mean 'y'?
#                                -- expect warning: 30:3: rule 'z' can never be reached...
#                              `quy check FILE` must print exactly these
#                              diagnostics (as FILE:LINE:COL: LEVEL: MESSAGE)
#                              and no others; no expectation = must pass.
#   tests/golden/eval/NAME/    `cmd` (arguments to quy, run inside the folder)
#                              or `script` (a bash script given the quy path as $1),
#                              `expected.out` (stdout), `expected.rc` (exit
#                              status, default 0) and optionally
#                              `expected.err` (lines that stderr must contain).
set -u
QUY=$(realpath "$1")
DIR=$2
pass=0
fail=0
failed=()

for f in "$DIR"/check/*.quy; do
  [ -e "$f" ] || continue
  name=check/$(basename "$f")
  got=$(cd "$(dirname "$f")" && "$QUY" check "$(basename "$f")" 2>&1 >/dev/null | grep -E '^[^ ]+:[0-9]+:[0-9]+: (error|warning): ' | sed -E 's/^[^:]+:([0-9]+:[0-9]+: )/\1/' | sort)
  want=$(grep -E -- '-- expect (error|warning): ' "$f" | sed -E 's/.*-- expect (error|warning): ([0-9]+:[0-9]+: )(.*)$/\2\1: \3/' | sort)
  if [ "$got" == "$want" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); failed+=("$name")
    echo "FAIL $name"
    diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
  fi
done

for d in "$DIR"/eval/*/; do
  [ -f "$d/cmd" ] || [ -f "$d/script" ] || continue
  name=eval/$(basename "$d")
  want_rc=0
  [ -f "$d/expected.rc" ] && want_rc=$(cat "$d/expected.rc")
  out=$(mktemp) err=$(mktemp)
  if [ -f "$d/script" ]; then
    (cd "$d" && bash ./script "$QUY" >"$out" 2>"$err")
  else
    (cd "$d" && eval "\"$QUY\" $(cat cmd)" >"$out" 2>"$err")
  fi
  rc=$?
  ok=1
  if [ "$rc" != "$want_rc" ]; then ok=0; echo "FAIL $name: exit status $rc, expected $want_rc"; fi
  if [ -f "$d/expected.out" ] && ! diff -u "$d/expected.out" "$out" >/dev/null; then
    ok=0; echo "FAIL $name: stdout differs"; diff -u "$d/expected.out" "$out" | head -40 | sed 's/^/    /'
  fi
  if [ -f "$d/expected.err" ]; then
    while IFS= read -r line; do
      [ -z "$line" ] && continue
      if ! grep -qF -- "$line" "$err"; then ok=0; echo "FAIL $name: stderr lacks: $line"; sed 's/^/    /' "$err" | head -20; fi
    done <"$d/expected.err"
  fi
  rm -f "$out" "$err"
  if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$name"); fi
done

echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
