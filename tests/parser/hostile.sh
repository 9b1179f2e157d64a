#!/usr/bin/env bash
# Hostile rulesets, generated here: `quy check` gives a clear error (exit 1)
# or accepts (exit 0) — never a crash. A chain of 30,000 `+` overflowed the
# C stack in the checker (SIGSEGV) before the parser bounded the operators
# on one path of an expression (grammar/parser.y, PARSE_MAX_HEIGHT).
#   hostile.sh QUY
set -u
QUY=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
HDR='ruleset t version "1"
record member {
  n : int
}
'
# gen NAME CONDITION: a ruleset whose one rule has CONDITION
gen() { printf '%srate member {\n  a: htxsnv when %s cite "x"\n  otherwise htnv\n}\n' "$HDR" "$2" >"$T/$1.quy"; }
# expect NAME RC MESSAGE: quy check exits RC and says MESSAGE
expect() {
    local out rc
    out=$(timeout 60 "$QUY" check "$T/$1.quy" 2>&1); rc=$?
    if [ $rc -ne "$2" ] || ! grep -qF -- "$3" <<<"$out"; then
        echo "FAIL $1: exit $rc, expected $2 and: $3"; echo "$out" | head -3 | cut -c1-200; fails=$((fails + 1))
    else
        echo "ok   $1"
    fi
}
rep() { local s=$1 n=$2 out=""; for ((i = 0; i < n; i++)); do out+=$s; done; printf '%s' "$out"; }
gen sum-30000 "n$(rep ' + n' 30000) > 1"
expect sum-30000 1 "this expression is too long: more than 1000 operators on one path"
gen sum-1000 "n$(rep ' + n' 999) > 1"
expect sum-1000 0 "ok — ruleset t 1"
gen and-5000 "n > 1$(rep ' and n > 1' 5000)" # top-level `and` is a list of clauses, not a tree
expect and-5000 0 "5001 clauses"
gen or-30000 "n > 1$(rep ' or n > 1' 30000)"
expect or-30000 1 "this expression is too long"
gen not-5000 "$(rep 'not ' 5000)n > 1"
expect not-5000 1 "this expression is too long"
gen paren-20000 "$(rep '(' 20000)n > 1$(rep ')' 20000)"
expect paren-20000 1 "nested too deeply: the parser gave up here"
gen ident-2M "$(head -c 2000000 /dev/zero | tr '\0' n) > 1"
expect ident-2M 1 "unknown field 'nnnn"
# ... in lines of a few hundred bytes, not three of 2 MB (the message and the
# source line are cut around the error)
longest=$(timeout 60 "$QUY" check "$T/ident-2M.quy" 2>&1 | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
if [ "$longest" -le 1000 ]; then echo "ok   ident-2M lines ($longest bytes at most)"; else
    echo "FAIL ident-2M: a line of $longest bytes"; fails=$((fails + 1)); fi
gen number-1M "n > $(head -c 1000000 /dev/zero | tr '\0' 9)"
expect number-1M 1 "error: number '9999"
{ printf '%srate member {\n' "$HDR"; for ((i = 0; i < 20000; i++)); do printf '  r%d: htxsnv when n > > 1 cite "x"\n' $i; done
  printf '  otherwise htnv\n}\n'; } >"$T/errors-20000.quy"
expect errors-20000 1 "unexpected '>', expected an expression"
# 50,000 rules compile in linear time (list appends, the rule-name check and
# the constant pool look-up each walked everything before: 48.8 s at 50,000
# rules); ctest's timeout is the guard. The last rule decides, and a
# duplicate name is still found.
big() { # big NAME EXTRA-RULE
    { printf '%srate member {\n' "$HDR"
      seq 0 49999 | awk '{ printf "  r%d: htxsnv when n = %d cite \"Điều %d\"\n", $1, $1, $1 % 100 }'
      printf '%s  otherwise htnv\n}\n' "$2"; } >"$T/$1.quy"
}
big rules-50000 ""
expect rules-50000 0 "50001 rules, 50000 clauses"
out=$(printf '{"id":"a","kind":"member","n":49999}\n{"id":"b","kind":"member","n":50000}\n' |
      timeout 60 "$QUY" eval --ruleset "$T/rules-50000.quy" --format jsonl - 2>&1)
if grep -qF '"id":"a","kind":"member","tier":"htxsnv"' <<<"$out" && grep -qF '"rule":{"name":"r49999","cite":"Điều 99"' <<<"$out" &&
   grep -qF '"id":"b","kind":"member","tier":"htnv"' <<<"$out"; then
    echo "ok   rules-50000 eval"
else
    echo "FAIL rules-50000 eval: $out" | cut -c1-400; fails=$((fails + 1))
fi
big rules-50000-dup '  r31337: htnv when n = 1 cite "x"
'
expect rules-50000-dup 1 "rules-50000-dup.quy:50006:3: error: rule 'r31337' is already defined in this block"
# 50,000 fields and an enum of 50,000 members, each with a duplicate at the
# end (both checks compared each name with every earlier one)
{ printf 'ruleset t version "1"\nenum e { '; seq 0 49999 | awk '{ printf "%sm%d", ($1 ? ", " : ""), $1 }'
  printf ', m777 }\nrecord member {\n'; seq 0 49999 | awk '{ printf "  f%d : int\n", $1 }'
  printf '  g : e\n  f4242 : int\n}\nrate member {\n  a: htxsnv when f49999 > 1 and g = m49999 cite "x"\n  otherwise htnv\n}\n'; } >"$T/names-50000.quy"
expect names-50000 1 "names-50000.quy:2:"
expect names-50000 1 "error: duplicate member 'm777'"
expect names-50000 1 "names-50000.quy:50005:3: error: field 'f4242' is declared twice in record 'member'"
# 50,000 lets, each using the one before: each name was looked up among
# every let before it (20,000 lets took 2.2 s), and written out the chain
# nested 50,000 deep (the checker overflowed the C stack under ASan); a let
# nests at most 1,000 operators deep, as one expression does
{ printf '%srate member {\n  let l0 = n\n' "$HDR"; seq 1 49999 | awk '{ printf "  let l%d = l%d + 1\n", $1, $1 - 1 }'
  printf '  a: htxsnv when l49999 > 50000 cite "x"\n  otherwise htnv\n}\n'; } >"$T/lets-50000.quy"
expect lets-50000 1 "lets-50000.quy:1007:3: error: let 'l1001' nests 1001 operators deep once the lets it uses are written out (at most 1000"
# 40 lets, each using the one before twice: the code writes a let out at
# each use, so it doubled at every step and the compiler never finished
{ printf '%srate member {\n  let l0 = n\n' "$HDR"; for ((i = 1; i <= 40; i++)); do printf '  let l%d = l%d + l%d\n' $i $((i - 1)) $((i - 1)); done
  printf '  a: htxsnv when l40 > 1 cite "x"\n  otherwise htnv\n}\n'; } >"$T/lets-doubling.quy"
expect lets-doubling 1 "lets-doubling.quy:22:3: error: let 'l16' stands for 131071 operations once the lets it uses are written out (at most 100000)"
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all clear"
