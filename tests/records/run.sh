#!/usr/bin/env bash
# Hostile records (the reliability reproducers record-01..06, copied here)
# and NFC: each input gets a clear error or the correct rating, and every
# other record of it is still rated.
# usage: tests/records/run.sh path/to/quy
set -u
QUY=$1
D=$(cd "$(dirname "$0")" && pwd)
fail=0
# expect NAME FILE PATTERN...: `quy eval` output (stdout+stderr) has every pattern (grep -E)
expect() {
  local name=$1 file=$2
  shift 2
  local out
  out=$("$QUY" eval --ruleset central-124 --format jsonl "$D/$file" 2>&1)
  for pat in "$@"; do
    if ! grep -qE -- "$pat" <<<"$out"; then
      echo "FAIL $name: output lacks /$pat/"
      sed 's/^/    /' <<<"$out" | cut -c1-300 | head -20
      fail=1
    fi
  done
}
# refuse NAME FILE PATTERN: the output must not match
refuse() {
  local out
  out=$("$QUY" eval --ruleset central-124 --format jsonl "$D/$2" 2>&1)
  if grep -qE -- "$3" <<<"$out"; then echo "FAIL $1: output has /$3/"; fail=1; fi
}

# record-01: a key twice is an error naming the record and the key; H-0001 and H-0003 rated
expect record-01 record-01.jsonl '"id":"H-0002","error":\{"code":"duplicate_key","field":"tasks_total"' \
  "bản ghi 'H-0002'" '"id":"H-0001","kind":"member","tier":"httnv"' '"id":"H-0003","kind":"member","tier":"httnv"' \
  'cột 455'
# record-02: the whole id, never cut in a UTF-8 sequence
expect record-02 record-02.jsonl '"id":"A{126}ệệ","error":\{"code":"missing_field"' \
  '"id":"B{125}ệệ","error":\{"code":"constraint","field":"months_in_role"' '"id":"H-0003","kind":"member","tier":"httnv"'
# record-03: a duplicated header column is a warning naming it, each row whose two cells differ an error naming it
expect record-03 record-03.csv "warning: cột 'id' xuất hiện hai lần" \
  '"id":"DV-0101","error":\{"code":"bad_csv","field":"id"' '"id":"DV-0102","error":\{"code":"bad_csv","field":"id"' \
  '2 records rated, 2 rejected|0 records rated, 2 rejected'
refuse record-03 record-03.csv '"id":null'
# record-04: the unterminated quote is named at row 3 (its id too); row 4 is still rated
expect record-04 record-04.csv '"id":"DV-0102","error":\{"code":"bad_csv","field":null,"line":3' 'dòng 3: ô có dấu ngoặc kép' \
  '"id":"DV-0101","kind":"member"' '"id":"DV-0103","kind":"member","tier":"htnv"'
# record-05: 50.00000000000001 % is more than 50 % from JSON and from CSV alike
expect record-05-jsonl record-05.jsonl '"id":"P-0","kind":"member","tier":"khtnv".*"tin_nhiem_thap"'
expect record-05-csv record-05.csv '"id":"P-0","kind":"member","tier":"khtnv".*"tin_nhiem_thap"'
# record-06: 1e-19 % and 1e-20 % are both too precise for a percent: an error naming the field, never 0
expect record-06 record-06.jsonl '"id":"P-2","error":\{"code":"too_precise","field":"low_confidence_pct"' \
  '"id":"P-3","error":\{"code":"too_precise","field":"low_confidence_pct"'
# NFC: a peer_group in NFC and in NFD is one quota group (2 HTTNV in it, not two groups of 1)
expect nfc nfc-peer-group.csv '"id":"DV-1".*có 2 HTTNV' '"id":"DV-2".*có 2 HTTNV'
refuse nfc nfc-peer-group.csv 'có 1 HTTNV'

[ $fail = 0 ] && echo "records: all passed"
exit $fail
