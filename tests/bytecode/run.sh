#!/usr/bin/env bash
# Hostile compiled rulesets: each file violates one property the VM trusts
# (runtime/bytecode_verify.c lists them) and must be rejected by the
# verifier with a message naming it — exit 1, no crash, no hang. The
# bytecode-0N files reproduce the reliability issue's findings; the others
# are crafted here with tests/tools/qbc_edit from tests/golden/check/ok_minimal.quy.
#   run.sh QUY QBC_EDIT SRCDIR
set -u
QUY=$1 EDIT=$2 SRC=$3
D=$SRC/tests/bytecode
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# expect NAME FILE RECORDS MESSAGE [COMMAND]: quy rejects FILE with MESSAGE
expect() {
    local name=$1 file=$2 recs=$3 want=$4 cmd=${5:-eval}
    local out rc
    if [ "$cmd" = explain ]; then
        out=$(timeout 20 "$QUY" explain --ruleset "$file" --id B "$recs" 2>&1 >/dev/null); rc=$?
    else
        out=$(timeout 20 "$QUY" eval --ruleset "$file" --format jsonl "$recs" 2>&1 >/dev/null); rc=$?
    fi
    if [ $rc -ne 1 ] || ! grep -qF -- "$want" <<<"$out"; then
        echo "FAIL $name: exit $rc, expected 1 and a message containing: $want"
        echo "  got: $out" | head -5
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

# the reproducers of the reliability issue
expect bytecode-01 "$D/bytecode-01.qbc" "$D/bytecode-01.jsonl" "instruction 14 (STREQ): operand 1 is a number, but STREQ takes a string"
expect bytecode-02 "$D/bytecode-02.qbc" "$D/bytecode-02.jsonl" "instruction 17 (QNEXT): its exit 18 is not the QEND" explain
expect bytecode-03 "$D/bytecode-03.qbc" "$D/bytecode-03.jsonl" "check 18 belongs to kind 1 and to kind 3 (ranges overlap)"
expect bytecode-04 "$D/bytecode-04.qbc" "$D/bytecode-04.jsonl" "field 3 ('pct'): its default, constant 4, is a string, but the field is a percent" explain
expect bytecode-05 "$D/bytecode-05.qbc" "$D/bytecode-05.jsonl" "instruction 17 (QNEXT): its exit 18 is not the QEND"
expect bytecode-06 "$D/bytecode-06.qbc" "$D/bytecode-06.jsonl" "instruction 17 (QNEXT): its exit 18 is not the QEND"
# the -raw files are meant for a harness that fixes the checksum
"$EDIT" "$D/bytecode-05-raw.qbc" "$T/b05.qbc" || fails=$((fails + 1))
expect bytecode-05-raw "$T/b05.qbc" "$D/bytecode-05.jsonl" "instruction 17 (QNEXT): its exit 18 is not the QEND"
"$EDIT" "$D/bytecode-07-raw.qbc" "$T/b07.qbc" || fails=$((fails + 1))
expect bytecode-07-raw "$T/b07.qbc" "$D/bytecode-01.jsonl" "STREQ): operand 1 is a date, but STREQ takes a string"
expect bytecode-05-unsealed "$D/bytecode-05-raw.qbc" "$D/bytecode-05.jsonl" "checksum mismatch"

# crafted here: one property each (T1-T5, C1-C6 in bytecode_verify.c); the code
# indices are those of ok_minimal with its fused instructions (compiler/cg_opt.c)
"$QUY" build --rulesets "$SRC/rulesets" "$SRC/tests/golden/check/ok_minimal.quy" -o "$T/ok.qbc" >/dev/null 2>&1 || {
    echo "FAIL: cannot build ok_minimal"; exit 1; }
R=$D/bytecode-01.jsonl
craft() { local name=$1 want=$2; shift 2; "$EDIT" "$T/ok.qbc" "$T/$name.qbc" "$@" || { fails=$((fails + 1)); return; }
          expect "$name" "$T/$name.qbc" "$R" "$want"; }
craft T2-string-id "rules[0].cite: string id 9999 out of range" rules[0].cite=9999
craft T2-index "fields[2].type: index 500 out of range (ntypes" fields[2].type=500
craft T2-enum "rules[1].outcome: 9 is not a valid value" rules[1].outcome=9
craft T2-range "kind 0: checks 0..+5 out of range" kinds[0].nchecks=5
craft T3-member "constant 2: member ordinal -1/1" consts[2].value.n=-1
craft T3-denominator "with denominator 0" consts[0].value.d=0
craft T5-default-type "field 3 ('pct'): its default, constant 2, is a enum, but the field is a percent" fields[3].deflt=2 fields[3].flags=3
craft T5-default-flag "the default flag and the default constant disagree" fields[3].deflt=0
craft C1-slot "slot 9 out of range" code[30].a=9
craft C1-rule "rule 7 out of range" code[34].a=7
craft C2-underflow "stack underflow" code[23].op=0
craft C3-streq "instruction 17 (STREQ): operand 1 is a number, but STREQ takes a string" code[17].op=18
craft C3-arith-on-member "operand 1 is a member, but ADD takes a number" code[24].op=6
craft C3-compare-kinds "cannot compare a member with a number" code[23].b=3
craft C3-absent "cannot compare a value that may be absent" code[30].c=1
craft C4-exit-inside "instruction 21 (QNEXT): its exit 22 is not the QEND" code[21].b=22
craft C4-back-jump "backward jump to 13" code[18].b=13
craft C4-qstep-target "is not the QNEXT heading loop register 0" code[25].b=23
craft C5-no-halt "without HALT" code[36].op=0
craft C6-decide-in-check "DECIDE outside a rate block" code[4].op=33 code[4].a=0 code[4].b=5

# Every table cut short, in two shipped rulesets that between them fill every
# table but qkeys (resealed by qbc_edit): cut:T ends the payload halfway
# through T's records (the reader names where); drop:T keeps T's first half
# (the verifier names what now points past it). Halving layers, sources
# (metadata), quotas or caps (whole batch steps) leaves a valid program,
# which is rated as such; every other table is referred to from elsewhere.
# Each run ends within 20 s with no crash (tests/fuzz replays these under
# ASan+UBSan through fuzz_bytecode's corpus of seeds).
RECS=$SRC/tests/golden/eval/batch-summary/records.jsonl
valid_after_drop=" layers sources quotas caps qkeys "
for rs in central-124 cho-chu-2024; do
    "$QUY" build --rulesets "$SRC/rulesets" "$rs" -o "$T/$rs.qbc" >/dev/null 2>&1 || {
        echo "FAIL: cannot build $rs"; fails=$((fails + 1)); continue; }
    tables=$("$EDIT" --tables "$T/$rs.qbc") || { fails=$((fails + 1)); continue; }
    while read -r tab n; do
        if [ "$n" -gt 0 ]; then
            "$EDIT" "$T/$rs.qbc" "$T/cut.qbc" "cut:$tab" || { fails=$((fails + 1)); continue; }
            expect "$rs-cut-$tab" "$T/cut.qbc" "$RECS" "not a valid compiled ruleset: truncated at byte"
        fi
        "$EDIT" "$T/$rs.qbc" "$T/drop.qbc" "drop:$tab" || { fails=$((fails + 1)); continue; }
        if [ "${valid_after_drop#* $tab }" != "$valid_after_drop" ] || { [ "$tab" = bexprs ] && [ "$n" -eq 0 ]; }; then
            timeout 20 "$QUY" eval --ruleset "$T/drop.qbc" --format jsonl "$RECS" >/dev/null 2>&1
            rc=$?
            if [ $rc -eq 0 ] || [ $rc -eq 2 ]; then echo "ok   $rs-drop-$tab (a valid program, rated)"
            else echo "FAIL $rs-drop-$tab: exit $rc, expected the program rated (0 or 2)"; fails=$((fails + 1)); fi
        else
            expect "$rs-drop-$tab" "$T/drop.qbc" "$RECS" "not a valid compiled ruleset: invalid program: "
        fi
    done <<<"$tables"
done

[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all rejected"
