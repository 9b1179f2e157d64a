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
  case $file in /*) ;; *) file=$D/$file ;; esac
  out=$(timeout 60 "$QUY" eval --ruleset central-124 --format jsonl "$file" 2>&1)
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
    echo "FAIL $name: exit $rc (a crash or a hang; expected 0 or 2)"
    fail=1
  fi
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

# Hostile sizes, generated here (each next to two good records, which must be
# rated): a 2 MiB line, a 2 MiB element of a JSON array (this one read freed
# memory: SIGSEGV, before the reader's first pass stopped reporting places
# from the previous element), an element over the limit that arrives whole,
# 100,000 levels of nesting, a list of 10,001 grades, a 1,000,000-digit
# number, a CSV header over the limit and one with an unterminated quote
# (the next line was taken as the header, misnaming every cell).
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rec() { # rec ID [UNIT [GRADES [MONTHS]]]: one central-124 member as JSON
  printf '{"id": "%s", "kind": "member", "period": "2024", "unit": "%s", "months_in_role": %s, ' "$1" "${2:-U}" "${4:-87}"
  printf '"result_grades": %s, "other_grades": ["tot", "tot", "tot", "tot"], "outstanding": false, ' "${3:-[\"tot\", \"tot\", \"tot\"]}"
  printf '"tasks_total": 6, "tasks_completed": 6, "tasks_on_time": 6, "tasks_exceeded": 1, "exempt": false, '
  printf '"suspended": false, "degraded": false, "prohibited_conduct": false, "exemplary_breach": false, '
  printf '"disciplined": false, "self_remedied": false}'
}
big=$(head -c 2097152 /dev/zero | tr '\0' x)
{ rec OK-1; echo; rec BIG "$big"; echo; rec OK-2; echo; } >"$T/line.jsonl"
expect huge-line "$T/line.jsonl" 'dòng 2 dài hơn giới hạn 1048576 byte' '"id":"OK-1","kind":"member","tier"' \
  '"id":"OK-2","kind":"member","tier"'
{ echo "["; rec OK-1; echo ","; rec BIG "$big"; echo ","; rec OK-2; echo "]"; } >"$T/array.json"
expect huge-array-element "$T/array.json" 'phần tử của mảng JSON dài hơn giới hạn 1048576 byte' \
  '"id":"OK-1","kind":"member","tier"' '"id":"OK-2","kind":"member","tier"'
{ echo "["; rec OK-1; echo ","; rec BIG "${big:0:1100000}"; echo "]"; } >"$T/array-last.json"
expect huge-array-last "$T/array-last.json" 'phần tử của mảng JSON dài hơn giới hạn 1048576 byte' \
  '"id":"OK-1","kind":"member","tier"'
deep=$(head -c 100000 /dev/zero | tr '\0' '[')$(head -c 100000 /dev/zero | tr '\0' ']')
{ rec OK-1; echo; rec DEEP U "$deep"; echo; rec OK-2; echo; } >"$T/deep.jsonl"
expect deep-nesting "$T/deep.jsonl" '"id":"DEEP","error":\{"code":"limit".*JSON lồng sâu quá 32 tầng' \
  '"id":"OK-1","kind":"member","tier"' '"id":"OK-2","kind":"member","tier"'
long="[\"tot\"$(for i in $(seq 10000); do printf ', "tot"'; done)]"
{ rec OK-1; echo; rec LONG U "$long"; echo; rec OK-2; echo; } >"$T/long.jsonl"
expect long-list "$T/long.jsonl" '"id":"LONG","error":\{"code":"limit","field":"result_grades".*dài hơn giới hạn 10000 phần tử' \
  '"id":"OK-1","kind":"member","tier"' '"id":"OK-2","kind":"member","tier"'
{ rec OK-1; echo; rec NUM U '["tot", "tot", "tot"]' "$(head -c 1000000 /dev/zero | tr '\0' 9)"; echo; rec OK-2; echo; } >"$T/num.jsonl"
expect huge-number "$T/num.jsonl" '"id":"NUM","error":\{"code":"too_precise","field":"months_in_role"' \
  '"id":"OK-1","kind":"member","tier"' '"id":"OK-2","kind":"member","tier"'
{ printf 'id,kind,%s\n' "$big"; echo 'id,kind,unit'; echo 'A,member,x'; } >"$T/header.csv"
expect csv-huge-header "$T/header.csv" '"line":1,.*không đọc được dòng tiêu đề CSV: dài hơn giới hạn 1048576 byte'
refuse_file() { if timeout 60 "$QUY" eval --ruleset central-124 --format jsonl "$2" 2>&1 | grep -qE -- "$3"; then
  echo "FAIL $1: output has /$3/"; fail=1; fi; }
refuse_file csv-huge-header "$T/header.csv" '"id":"A"' # no row read as the header
printf 'id,kind,"unit\nid,kind,unit\nA,member,x\n' >"$T/quote.csv"
expect csv-header-quote "$T/quote.csv" '"line":1,.*không đọc được dòng tiêu đề CSV: ô có dấu ngoặc kép mở mà không đóng'
refuse_file csv-header-quote "$T/quote.csv" '"id":"A"'

[ $fail = 0 ] && echo "records: all passed"
exit $fail
