#!/usr/bin/env python3
"""quy.h is bindable as it is: Python's ctypes, with no struct declared,
loads libquy.so, resolves a locality, compiles a ruleset from memory with
its diagnostics, rates records and reads results and explanations, lists
the registry and a kind's fields, sets a hook CPU-time limit. Every
function quy.h declares is exported by libquy.so.

    binding.py LIBQUY_SO SOURCE_DIR
"""
import ctypes as C
import re
import sys

lib = C.CDLL(sys.argv[1])
src = sys.argv[2]
with open(f"{src}/include/quy.h", encoding="utf-8") as h:
    declared = re.findall(r"^QUY_API [^;]*?\b(quy_[a-z0-9_]+)\(", h.read(), re.M)
missing = [n for n in declared if not hasattr(lib, n)]
if missing:
    raise SystemExit(f"declared in quy.h but not exported by libquy.so: {', '.join(missing)}")
print(f"quy.h: {len(declared)} functions, all exported")
P, S, Z = C.c_void_p, C.c_char_p, C.c_size_t
for name, res, args in [
    ("quy_version", S, []), ("quy_errmsg", S, []), ("quy_free", None, [P]),
    ("quy_loader_new", C.c_int, [C.POINTER(P)]), ("quy_loader_free", None, [P]),
    ("quy_loader_add_dir", C.c_int, [P, S]), ("quy_loader_set_defaults", C.c_int, [P, C.c_int]),
    ("quy_loader_resolve", C.c_int, [P, S, S, C.POINTER(P), C.POINTER(P)]),
    ("quy_loader_load", C.c_int, [P, S, C.POINTER(P), C.POINTER(P)]),
    ("quy_loader_compile", C.c_int, [P, S, S, Z, C.POINTER(P), C.POINTER(P)]),
    ("quy_diags_count", Z, [P]), ("quy_diag_line", C.c_uint, [P, Z]), ("quy_diag_column", C.c_uint, [P, Z]),
    ("quy_diag_message", S, [P, Z]), ("quy_diag_suggestion", S, [P, Z]), ("quy_diags_free", None, [P]),
    ("quy_ruleset_name", S, [P]), ("quy_ruleset_free", None, [P]),
    ("quy_session_new", C.c_int, [P, C.POINTER(P)]), ("quy_session_free", None, [P]),
    ("quy_rate_json", C.c_int, [P, S, Z, C.POINTER(P)]),
    ("quy_result_id", S, [P]), ("quy_result_tier", S, [P]), ("quy_result_rule", S, [P]),
    ("quy_result_error_code", S, [P]), ("quy_result_error_field", S, [P]), ("quy_result_steps", C.c_uint, [P]),
    ("quy_result_explain", C.c_int, [P, C.POINTER(P)]), ("quy_explain_free", None, [P]),
    ("quy_explain_decided_by", S, [P, S]), ("quy_explain_rule_count", Z, [P]),
    ("quy_loader_registry", C.c_int, [P, C.POINTER(P)]), ("quy_registry_free", None, [P]),
    ("quy_registry_locality_count", Z, [P]), ("quy_registry_locality", S, [P, Z, S]),
    ("quy_registry_ruleset_count", Z, [P]), ("quy_registry_ruleset", S, [P, Z, S]),
    ("quy_ruleset_find_kind", C.c_int, [P, S, C.POINTER(Z)]), ("quy_kind_field_count", Z, [P, Z]),
    ("quy_kind_field", S, [P, Z, Z, S]),
    ("quy_session_set_hook_limits", C.c_int, [P, C.c_uint64, Z, C.c_uint64]),
    ("quy_session_hook_limits", C.c_int, [P, C.POINTER(C.c_uint64), C.POINTER(Z), C.POINTER(C.c_uint64)]),
]:
    f = getattr(lib, name)
    f.restype, f.argtypes = res, args


def ok(st, what):
    if st != 0:
        raise SystemExit(f"{what}: status {st}: {lib.quy_errmsg().decode()}")


ld, rs, s, r, d, e = P(), P(), P(), P(), P(), P()
ok(lib.quy_loader_new(C.byref(ld)), "loader")
ok(lib.quy_loader_set_defaults(ld, 0), "defaults")
ok(lib.quy_loader_add_dir(ld, f"{src}/rulesets".encode()), "add_dir")
assert lib.quy_loader_add_dir(ld, b"/no/such/folder") == 11
name, why = P(), P()
ok(lib.quy_loader_resolve(ld, "Chợ Chu".encode(), b"2024-12-01", C.byref(name), C.byref(why)), "resolve")
print("resolved:", C.cast(name, S).value.decode())
lib.quy_free(name), lib.quy_free(why)

bad = b'ruleset mine extends central-124 version "1"\ncap member at httnv when months_in_rol < 12 cite "x"\n'
assert lib.quy_loader_compile(ld, b"mine.quy", bad, len(bad), C.byref(rs), C.byref(d)) == 1
for i in range(lib.quy_diags_count(d)):
    print(f"diagnostic {lib.quy_diag_line(d, i)}:{lib.quy_diag_column(d, i)}: {lib.quy_diag_message(d, i).decode()}"
          f" -> {lib.quy_diag_suggestion(d, i).decode()}")
lib.quy_diags_free(d)

ok(lib.quy_loader_load(ld, b"central-124", C.byref(rs), None), "load")
ok(lib.quy_session_new(rs, C.byref(s)), "session")
rec = (b'{"id":"DV-1","kind":"member","period":"2024","months_in_role":40,"result_grades":["tot","xuat_sac"],'
       b'"other_grades":["tot","tot"],"outstanding":false,"tasks_total":10,"tasks_completed":10,"tasks_on_time":10,'
       b'"tasks_exceeded":2,"exempt":false,"suspended":false,"degraded":false,"prohibited_conduct":false,'
       b'"exemplary_breach":false,"disciplined":false,"self_remedied":false}')
ok(lib.quy_rate_json(s, rec, len(rec), C.byref(r)), "rate")
print("rated:", lib.quy_result_id(r).decode(), lib.quy_result_tier(r).decode(), lib.quy_result_rule(r).decode(),
      "no batch" if lib.quy_result_steps(r) & 0x100 else "batch")
ok(lib.quy_result_explain(r, C.byref(e)), "explain")
print("decided by:", lib.quy_explain_decided_by(e, b"rule").decode(), "after", lib.quy_explain_rule_count(e), "rules")
lib.quy_explain_free(e)
assert lib.quy_rate_json(s, b'{"id":"X"', 9, C.byref(r)) == 2
print("rejected:", lib.quy_result_error_code(r).decode())
assert lib.quy_rate_json(None, rec, len(rec), C.byref(r)) == 10  # NULL session: an error, no crash
print("NULL session:", lib.quy_errmsg().decode())

reg = P()
ok(lib.quy_loader_registry(ld, C.byref(reg)), "registry")
roots = [lib.quy_registry_locality(reg, i, b"id").decode() for i in range(lib.quy_registry_locality_count(reg))
         if lib.quy_registry_locality(reg, i, b"parent") is None]
print("registry:", lib.quy_registry_ruleset_count(reg), "rulesets; root", roots)
assert lib.quy_registry_locality(reg, 10**6, b"id") is None  # out of range: NULL, no crash
lib.quy_registry_free(reg)
k = Z()
ok(lib.quy_ruleset_find_kind(rs, b"member", C.byref(k)), "kind")
fields = [lib.quy_kind_field(rs, k, i, b"name").decode() for i in range(lib.quy_kind_field_count(rs, k))]
print("member fields:", len(fields), "e.g.", fields[0], lib.quy_kind_field(rs, k, 0, b"presence").decode())
ok(lib.quy_session_set_hook_limits(s, 0, 0, 500), "hook limits")
cpu = C.c_uint64()
ok(lib.quy_session_hook_limits(s, None, None, C.byref(cpu)), "hook limits")
assert cpu.value == 500
assert lib.quy_session_set_hook_limits(s, 0, 0, 10**12) == 10  # over a day: refused
lib.quy_session_free(s), lib.quy_ruleset_free(rs), lib.quy_loader_free(ld)
print("libquy", lib.quy_version().decode(), "through ctypes: ok")
