import json, copy, os
OUT = '/work/wt/h366/rulesets/central-366/tests'
os.makedirs(OUT, exist_ok=True)
files = {}
n = [0]
def rid(prefix):
    n[0] += 1
    return "%s-%04d" % (prefix, n[0])
MEMBER = {"kind": "member", "period": "2025", "unit": "CB-1", "months_in_role": 120,
          "score": 95, "score_general": 28, "score_results": 67,
          "tasks_total": 10, "tasks_completed": 10, "tasks_on_time": 10, "tasks_exceeded": 3}
LEADER = {"kind": "leader", "period": "2025", "unit": "UB-1", "score": 95,
          "tasks_total": 10, "tasks_completed": 10, "tasks_on_time": 10, "tasks_exceeded": 0,
          "unit_targets_total": 10, "unit_targets_completed": 10, "unit_targets_on_time": 10, "unit_targets_exceeded": 3}
COLL = {"period": "2025", "score": 95, "tasks_total": 10, "tasks_completed": 10, "tasks_on_time": 10,
        "tasks_exceeded": 3, "discipline_cases": []}
def base(kind):
    if kind == "member": return copy.deepcopy(MEMBER)
    if kind == "leader": return copy.deepcopy(LEADER)
    r = copy.deepcopy(COLL); r["kind"] = kind
    if kind == "party_org": r["org_level"] = "chi_bo"
    return r
def case(fname, name, clause, kind, changes, tier=None, flags=(), note=None, error=None, field=None, drop=(), raw_cases=None):
    r = base(kind)
    r["id"] = rid({"member": "DV", "leader": "LD", "party_org": "TC", "agency": "CQ", "leadership": "TT"}[kind])
    for k in drop: r.pop(k, None)
    if "score" in changes and "score_general" not in changes:
        r.pop("score_general", None); r.pop("score_results", None)
    for dc in changes.get("discipline_cases", []):
        for k, v in (("corruption", False), ("self_remedied", False), ("duty_related", True)):
            dc.setdefault(k, v)
    r.update(changes)
    if raw_cases is not None: r["discipline_cases"] = raw_cases  # as written, no defaults filled in
    c = {"case": name, "clause": clause}
    if note: c["note"] = note
    c["record"] = r
    c["expect"] = {"error": error, "field": field} if error else {"tier": tier, "flags": list(flags)}
    files.setdefault(fname, []).append(c)
def batch(fname, name, clause, recs, expect, note=None):
    c = {"case": name, "clause": clause}
    if note: c["note"] = note
    c["batch"] = recs; c["expect"] = expect
    files.setdefault(fname, []).append(c)

C = "366-QĐ/TW Điều 11"
GAP = ["gap", "gap_partial_completion"]
GAPL = ["gap", "gap_late_over_20"]
# ---------------- member: bands ----------------
for kind, f in (("member", "member.jsonl"), ("leader", "leader.jsonl")):
    case(f, kind+"_htxsnv_all_conditions", C+", 1", kind, {}, "htxsnv", note="95 points, 100% on time, 30% exceeded, shortcomings fixed")
    case(f, kind+"_score_90_exact_htxsnv", C+", 1", kind, {"score": 90, "score_general": 27, "score_results": 63}, "htxsnv", note="90 = 'từ 90 điểm trở lên'")
    case(f, kind+"_score_89_99_httnv", C+", 1; 2", kind, {"score": 89.99, "score_general": 27, "score_results": 62.99}, "httnv", note="89.99 < 90")
    case(f, kind+"_score_70_exact_httnv", C+", 2", kind, {"score": 70, "score_general": 21, "score_results": 49}, "httnv")
    case(f, kind+"_score_69_99_htnv", C+", 2; 3", kind, {"score": 69.99, "score_general": 21, "score_results": 48.99}, "htnv")
    case(f, kind+"_score_50_exact_htnv", C+", 3", kind, {"score": 50, "score_general": 15, "score_results": 35}, "htnv")
    case(f, kind+"_score_49_99_khtnv", C+", 4", kind, {"score": 49.99, "score_general": 15, "score_results": 34.99}, "khtnv", note="under 50 points: khtnv whatever else")
    case(f, kind+"_score_0_khtnv", C+", 4", kind, {"score": 0, "score_general": 0, "score_results": 0}, "khtnv")
    case(f, kind+"_score_100_htxsnv", C+", 1", kind, {"score": 100, "score_general": 30, "score_results": 70}, "htxsnv")
    case(f, kind+"_score_only_no_parts", "366-QĐ/TW Điều 10", kind, {"score": 91}, "htxsnv", drop=("score_general", "score_results"), note="the parts are optional")
    case(f, kind+"_score_95_httnv_when_late", C+", 1; 2 (C-3)", kind,
         {"tasks_on_time": 9} if kind == "member" else {"unit_targets_on_time": 9}, "htnv",
         note="95 points but a task late: fails 1 and 2 (100% on time), 10% late <= 20%: htnv (C-3: bands are floors)")
# member-specific thresholds
f = "member.jsonl"
case(f, "member_exceeded_30_exact_htxsnv", C+", 1", "member", {"tasks_total": 10, "tasks_exceeded": 3}, "htxsnv", note="3/10 = 30%")
case(f, "member_exceeded_29_httnv", C+", 1", "member", {"tasks_total": 100, "tasks_completed": 100, "tasks_on_time": 100, "tasks_exceeded": 29}, "httnv", note="29/100 < 30%")
case(f, "member_exceeded_30_of_100_htxsnv", C+", 1", "member", {"tasks_total": 100, "tasks_completed": 100, "tasks_on_time": 100, "tasks_exceeded": 30}, "htxsnv")
case(f, "member_shortcomings_not_fixed_httnv", C+", 1 (khắc phục hạn chế)", "member", {"shortcomings_fixed": False}, "httnv")
case(f, "member_no_tasks_not_htxsnv", C+", 1", "member", {"tasks_total": 0, "tasks_completed": 0, "tasks_on_time": 0, "tasks_exceeded": 0}, "httnv", note="no task: nothing exceeded; 100% on time holds for 0 of 0")
case(f, "member_late_20_exact_htnv", C+", 3", "member", {"score": 80, "tasks_on_time": 8, "tasks_exceeded": 0}, "htnv", note="2/10 late = 20%: 'không quá 20%'")
case(f, "member_late_21_gap", C+", 3; 4 (C-4)", "member", {"score": 80, "tasks_total": 100, "tasks_completed": 100, "tasks_on_time": 79, "tasks_exceeded": 0}, "khtnv", GAPL + [], note="21/100 late: fails 3, no trigger: gap (C-4)")
case(f, "member_partial_completion_gap", C+", 3; 4 (C-4)", "member", {"score": 80, "tasks_completed": 9, "tasks_on_time": 9, "tasks_exceeded": 0}, "khtnv", GAP, note="9/10 done, 80 points: no tier (C-4: khtnv, flagged)")
case(f, "member_undone_50_exact_gap", C+", 4 (2)", "member", {"score": 80, "tasks_completed": 5, "tasks_on_time": 5, "tasks_exceeded": 0}, "khtnv", GAP, note="5/10 undone = 50%: not 'trên 50%': gap")
case(f, "member_undone_51_khtnv", C+", 4 (2)", "member", {"score": 80, "tasks_total": 100, "tasks_completed": 49, "tasks_on_time": 49, "tasks_exceeded": 0}, "khtnv", note="51/100 undone: trigger 2")
case(f, "member_degraded_khtnv", C+", 4 (1)", "member", {"degraded": True}, "khtnv")
case(f, "member_prohibited_khtnv", C+", 4 (1)", "member", {"prohibited_conduct": True}, "khtnv")
case(f, "member_exemplary_breach_khtnv", C+", 4 (1)", "member", {"exemplary_breach": True}, "khtnv")
case(f, "member_discipline_khien_trach_khtnv", C+", 4 (1)", "member", {"discipline_level": "khien_trach"}, "khtnv")
case(f, "member_discipline_canh_cao_khtnv", C+", 4 (1)", "member", {"discipline_level": "canh_cao"}, "khtnv")
case(f, "member_discipline_cach_chuc_flag", C+", 4 (1); 4.3", "member", {"discipline_level": "cach_chuc"}, "khtnv", ["ky_luat_cach_chuc_khai_tru"])
case(f, "member_discipline_khai_tru_flag", C+", 4 (1); 4.3", "member", {"discipline_level": "khai_tru"}, "khtnv", ["ky_luat_cach_chuc_khai_tru"])
case(f, "member_discipline_none_htxsnv", C+", 4 (1)", "member", {"discipline_level": "none"}, "htxsnv")
case(f, "member_discipline_not_duty_related", C+", 4 (1)", "member", {"discipline_level": "khien_trach", "discipline_duty_related": False}, "htxsnv", note="not in public duties: not this trigger")
case(f, "member_self_remedied_still_khtnv_flag", C+", 4 (đoạn cuối)", "member", {"discipline_level": "khien_trach", "self_remedied": True}, "khtnv", ["xem_xet_tu_khac_phuc"], note="no automatic exemption (unlike 124 4.3 d): the competent level weighs it")
case(f, "member_discipline_earlier_violation_counts_now", C+", 4.3 (C-5)", "member", {"discipline_level": "canh_cao", "period": "2025"}, "khtnv",
     note="discipline decided in 2025 for a 2023 violation: counted at the current rating (366 '4.3'), not back-dated as 124 4.5 did (no rerate hook)")
case(f, "member_self_remedied_no_violation_no_flag", C+", 4 (đoạn cuối)", "member", {"self_remedied": True}, "htxsnv")
case(f, "member_outside_system_htxsnv", C+", 1 (đảng viên ngoài hệ thống)", "member", {"outside_system": True}, "htxsnv", note="Phụ lục 5: same conditions")
case(f, "member_outside_system_late_htnv", C+", 3 (đảng viên ngoài hệ thống)", "member", {"outside_system": True, "score": 60, "tasks_on_time": 8, "tasks_exceeded": 0}, "htnv")
case(f, "member_outside_system_degraded", C+", 4 (đảng viên ngoài hệ thống)", "member", {"outside_system": True, "degraded": True}, "khtnv")
case(f, "member_exempt_not_rated", "366-QĐ/TW Điều 5; Điều 3 (C-1)", "member", {"exempt": True}, "not_rated")
case(f, "member_suspended_not_rated", "366-QĐ/TW Điều 5; Điều 3 (C-1)", "member", {"suspended": True}, "not_rated")
case(f, "member_new_5_months_not_rated", "366-QĐ/TW Điều 5 (C-1)", "member", {"months_in_role": 5}, "not_rated")
case(f, "member_new_6_months_rated", "366-QĐ/TW Điều 5 (C-1)", "member", {"months_in_role": 6}, "htxsnv")
case(f, "member_without_score_rejected", "records.md (366): score required", "member",
     {}, error="missing_field", field="score",
     drop=("score", "score_general", "score_results"), note="a 124-shaped record: the message names 'score' and its label")
# leader-specific
f = "leader.jsonl"
case(f, "leader_unit_exceeded_30_exact", C+", 1 (cán bộ lãnh đạo)", "leader", {}, "htxsnv")
case(f, "leader_unit_exceeded_29_httnv", C+", 1 (cán bộ lãnh đạo)", "leader", {"unit_targets_total": 100, "unit_targets_completed": 100, "unit_targets_on_time": 100, "unit_targets_exceeded": 29}, "httnv")
case(f, "leader_shortcomings_not_fixed_httnv", C+", 1", "leader", {"shortcomings_fixed": False}, "httnv")
case(f, "leader_unit_70_exact_gap", C+", 4 (1) (C-4)", "leader", {"score": 80, "unit_targets_completed": 7, "unit_targets_on_time": 7, "unit_targets_exceeded": 0}, "khtnv", ["gap", "gap_unit_partial"], note="7/10 = 70%: not 'dưới 70%', not 100%: gap")
case(f, "leader_unit_69_khtnv", C+", 4 (1)", "leader", {"score": 80, "unit_targets_total": 100, "unit_targets_completed": 69, "unit_targets_on_time": 69, "unit_targets_exceeded": 0}, "khtnv", note="69/100 < 70%: trigger 1")
case(f, "leader_unit_late_20_htnv", C+", 3 (cán bộ lãnh đạo)", "leader", {"score": 80, "unit_targets_on_time": 8, "unit_targets_exceeded": 0}, "htnv")
case(f, "leader_unit_late_21_gap", C+", 3; 4 (C-4)", "leader", {"score": 80, "unit_targets_total": 100, "unit_targets_completed": 100, "unit_targets_on_time": 79, "unit_targets_exceeded": 0}, "khtnv", ["gap", "gap_unit_late_over_20"])
case(f, "leader_own_task_undone_gap", C+", 1–3 (C-6)", "leader", {"tasks_completed": 9, "tasks_on_time": 9}, "khtnv", ["gap", "gap_partial_completion"])
case(f, "leader_basic_targets_missed", C+", 4 (1)", "leader", {"basic_targets_missed": True}, "khtnv")
case(f, "leader_basic_targets_met", C+", 4 (1)", "leader", {"basic_targets_missed": False}, "htxsnv")
case(f, "leader_low_confidence_50_exact", C+", 4 (2)", "leader", {"low_confidence_pct": 50}, "htxsnv", note="50% is not 'trên 50%'")
case(f, "leader_low_confidence_50_01", C+", 4 (2)", "leader", {"low_confidence_pct": 50.01}, "khtnv")
case(f, "leader_subordinates_half_khtnv", C+", 4 (1)", "leader", {"subordinate_tiers": ["khtnv", "khtnv", "htnv", "httnv"]}, "htxsnv", note="2/4 = 50% KHTNV: not 'trên 50%'")
case(f, "leader_subordinates_over_half_khtnv", C+", 4 (1)", "leader", {"subordinate_tiers": ["khtnv", "khtnv", "khtnv", "httnv"]}, "khtnv", note="3/4 > 50%")
case(f, "leader_subordinates_empty", C+", 4 (1)", "leader", {"subordinate_tiers": []}, "htxsnv")
case(f, "leader_discipline_khien_trach", C+", 4 (3)", "leader", {"discipline_level": "khien_trach"}, "khtnv")
case(f, "leader_discipline_not_duty_related", C+", 4 (3)", "leader", {"discipline_level": "canh_cao", "discipline_duty_related": False}, "htxsnv")
case(f, "leader_discipline_cach_chuc", C+", 4 (3); 4.3", "leader", {"discipline_level": "cach_chuc"}, "khtnv", ["ky_luat_cach_chuc_khai_tru"])
case(f, "leader_degraded", C+", 4 (4)", "leader", {"degraded": True}, "khtnv")
case(f, "leader_subordinate_corruption", C+", 4 (5)", "leader", {"subordinate_corruption": True}, "khtnv")
case(f, "leader_subordinate_corruption_self_remedied_flag", C+", 4 (5); đoạn cuối", "leader", {"subordinate_corruption": True, "subordinate_corruption_self_remedied": True}, "khtnv", ["xem_xet_tu_khac_phuc"], note="not automatic: flagged for the competent level")
case(f, "leader_discipline_self_remedied_flag", C+", 4 (3); đoạn cuối", "leader", {"discipline_level": "khien_trach", "self_remedied": True}, "khtnv", ["xem_xet_tu_khac_phuc"])
case(f, "leader_prohibited_conduct_flag_only", C+", 4 (C-7)", "leader", {"prohibited_conduct": True}, "htxsnv", ["vi_pham_ca_nhan"], note="not in the leaders' reported list: flagged, not rated down (C-7)")
case(f, "leader_no_unit_targets_not_htxsnv", C+", 1", "leader", {"unit_targets_total": 0, "unit_targets_completed": 0, "unit_targets_on_time": 0, "unit_targets_exceeded": 0}, "httnv")
# collectives
for kind in ("party_org", "agency", "leadership"):
    f = kind + ".jsonl"
    case(f, kind+"_htxsnv", C+", 1 (tập thể)", kind, {}, "htxsnv")
    case(f, kind+"_score_90_exact", C+", 1 (tập thể)", kind, {"score": 90}, "htxsnv")
    case(f, kind+"_score_89_99", C+", 2 (tập thể)", kind, {"score": 89.99}, "httnv")
    case(f, kind+"_score_70_exact", C+", 2 (tập thể)", kind, {"score": 70}, "httnv")
    case(f, kind+"_score_69_99", C+", 3 (tập thể)", kind, {"score": 69.99}, "htnv")
    case(f, kind+"_score_50_exact", C+", 3 (tập thể)", kind, {"score": 50}, "htnv")
    case(f, kind+"_score_49_99", C+", 4", kind, {"score": 49.99}, "khtnv")
    case(f, kind+"_exceeded_29", C+", 1 (tập thể)", kind, {"tasks_total": 100, "tasks_completed": 100, "tasks_on_time": 100, "tasks_exceeded": 29}, "httnv")
    case(f, kind+"_sub_unit_disciplined_not_htxsnv", C+", 1 (tập thể)", kind, {"discipline_cases": [{"who": "sub_unit"}]}, "httnv", note="a disciplined sub-unit bars HTXSNV")
    case(f, kind+"_late_20_htnv", C+", 3 (tập thể)", kind, {"tasks_on_time": 8}, "htnv")
    case(f, kind+"_late_over_20_gap", C+", 3; 4 (C-4)", kind, {"tasks_total": 100, "tasks_completed": 100, "tasks_on_time": 79, "tasks_exceeded": 3}, "khtnv", GAPL)
    case(f, kind+"_shortcomings_not_fixed", C+", 1", kind, {"shortcomings_fixed": False}, "httnv")
f = "party_org.jsonl"
case(f, "party_org_collective_case_not_htxsnv", C+", 1 (tập thể) (C-11)", "party_org", {"discipline_cases": [{"who": "collective"}]}, "httnv",
     note="its leadership collective itself disciplined: bars HTXSNV a fortiori (no trigger of khoản 4 for an organisation, C-10)")
case(f, "party_org_partial_completion_gap", C+", 3; 4 (C-4, C-10)", "party_org", {"tasks_completed": 5, "tasks_on_time": 5, "tasks_exceeded": 0}, "khtnv", GAP, note="no KHTNV trigger reported for an organisation as such (C-10)")
case("agency.jsonl", "agency_member_disciplined_not_htxsnv", C+", 1 (tập thể)", "agency", {"discipline_cases": [{"who": "member"}]}, "httnv")
f = "leadership.jsonl"
case(f, "leadership_member_disciplined_khtnv", C+", 4 (tập thể lãnh đạo, 2)", "leadership", {"discipline_cases": [{"who": "member"}]}, "khtnv")
case(f, "leadership_member_disciplined_previous_unit", C+", 4 (tập thể lãnh đạo, 2)", "leadership", {"discipline_cases": [{"who": "member", "duty_related": False}]}, "httnv", note="violation at a previous unit: not the trigger; still bars HTXSNV (khoản 1)")
case(f, "leadership_case_without_duty_related_counts", C+", 4 (tập thể lãnh đạo, 2)", "leadership", {}, "khtnv",
     note="a 124-shaped case without duty_related: the default (true) applies", raw_cases=[{"who": "member", "corruption": False, "self_remedied": False}])
case(f, "leadership_member_disciplined_self_remedied_flag", C+", 4 (đoạn cuối)", "leadership", {"discipline_cases": [{"who": "member", "self_remedied": True}]}, "khtnv", ["xem_xet_bat_kha_khang"])
case(f, "leadership_collective_disciplined_khtnv", C+", 4 (tập thể lãnh đạo, 2) (C-11)", "leadership", {"discipline_cases": [{"who": "collective"}]}, "khtnv")
case(f, "leadership_sub_unit_disciplined_not_a_trigger", C+", 4 (tập thể lãnh đạo)", "leadership", {"discipline_cases": [{"who": "sub_unit", "corruption": True}]}, "httnv", note="a sub-unit case bars HTXSNV (khoản 1) but is no trigger of khoản 4")
case(f, "leadership_disunity", C+", 4 (tập thể lãnh đạo, 1)", "leadership", {"disunity": True}, "khtnv")
case(f, "leadership_cadre_work_violation", C+", 4 (tập thể lãnh đạo, 1)", "leadership", {"cadre_work_violation": True}, "khtnv")
case(f, "leadership_member_degraded", C+", 4 (tập thể lãnh đạo, 3)", "leadership", {"member_degraded": True}, "khtnv")
case(f, "leadership_tasks_70_exact_gap", C+", 4 (tập thể lãnh đạo, 4) (C-4)", "leadership", {"tasks_completed": 7, "tasks_on_time": 7, "tasks_exceeded": 0}, "khtnv", GAP)
case(f, "leadership_tasks_69_khtnv", C+", 4 (tập thể lãnh đạo, 4)", "leadership", {"tasks_total": 100, "tasks_completed": 69, "tasks_on_time": 69, "tasks_exceeded": 0}, "khtnv")
case(f, "leadership_force_majeure_flag", C+", 4 (đoạn cuối)", "leadership", {"tasks_total": 100, "tasks_completed": 60, "tasks_on_time": 60, "tasks_exceeded": 0, "force_majeure": True}, "khtnv", ["xem_xet_bat_kha_khang"], note="force majeure is weighed by the competent level, not automatic")
case(f, "leadership_basic_targets_missed", C+", 4 (tập thể lãnh đạo, 4)", "leadership", {"basic_targets_missed": True}, "khtnv")
# rejects
f = "rejects.jsonl"
case(f, "reject_score_over_100", "366-QĐ/TW Điều 10", "member", {"score": 100.01, "score_general": 30, "score_results": 70.01}, error="constraint", field="score")
case(f, "reject_score_negative", "366-QĐ/TW Điều 10", "member", {"score": -1}, error="constraint", field="score", drop=("score_general", "score_results"))
case(f, "reject_parts_do_not_add_up", "366-QĐ/TW Điều 10", "member", {"score": 95, "score_general": 28, "score_results": 66}, error="constraint", field="score_general")
case(f, "reject_general_over_30", "366-QĐ/TW Điều 10", "member", {"score": 95, "score_general": 31, "score_results": 64}, error="constraint", field="score_general")
case(f, "reject_results_over_70", "366-QĐ/TW Điều 10", "member", {"score": 95, "score_general": 24, "score_results": 71}, error="constraint", field="score_results")
case(f, "reject_completed_over_total", "records.md", "member", {"tasks_completed": 11}, error="constraint", field="tasks_completed")
case(f, "reject_unit_on_time_over_completed", "records.md", "leader", {"unit_targets_on_time": 11}, error="constraint", field="unit_targets_on_time")
case(f, "reject_leader_without_score", "records.md (366)", "leader", {}, error="missing_field", field="score", drop=("score",))
case(f, "reject_discipline_level_unknown", "records.md (366)", "member", {"discipline_level": "phe_binh"}, error="unknown_value", field="discipline_level")
case(f, "reject_agency_without_score_and_tasks", "records.md (366)", "agency", {}, error="missing_field", field="score", drop=("score", "tasks_total"))

# quota batches
def m(i, pg, exceeded, score=95):
    r = base("member"); r.update({"id": i, "peer_group": pg, "tasks_exceeded": exceeded, "score": score})
    r.pop("score_general"); r.pop("score_results"); return r
f = "batch.jsonl"
def group(prefix, nx, nt, pg="pg"):
    return [m("%s%d" % (prefix, i + 1), pg, 3) for i in range(nx)] + [m("%s%d" % (prefix, nx + i + 1), pg, 0, 80) for i in range(nt)]
Q = C + ", 1 (tỷ lệ: không quá 20% số HTTNV)"
batch(f, "quota20_1x_5t_kept", Q, group("A", 1, 5), {"A1": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": []}},
      note="keeping A1 leaves 5 HTTNV: 20% x 5 = 1 >= 1")
batch(f, "quota20_1x_4t_demoted", Q, group("B", 1, 4), {"B1": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}},
      note="keeping B1 leaves 4 HTTNV: 20% x 4 = 0,8 -> 0 (round down); the 25% raise is not on by default")
batch(f, "quota20_2x_8t_one_kept", Q, group("C", 2, 8), {"C1": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": []},
      "C2": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}},
      note="keeping 2 leaves 8: 1,6 -> 1 < 2; keeping 1 leaves 9: 1,8 -> 1; input order decides")
batch(f, "quota20_higher_score_keeps", Q, [m("K1", "pg", 3, 91), m("K2", "pg", 3, 97)] + [m("K%d" % i, "pg", 0, 80) for i in range(3, 11)],
      {"K1": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}, "K2": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": []}},
      note="2 candidates, room for 1 (keeping 1 leaves 9 HTTNV: 1,8 -> 1): the higher score (97) keeps it, though later in the input (C-9)")
batch(f, "quota20_groups_apart", Q, group("D", 1, 5, "pg-a") + group("E", 1, 4, "pg-b"),
      {"D1": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": []}, "E1": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}},
      note="counted per peer group")
batch(f, "quota20_base_is_httnv_not_headcount", Q, group("F", 1, 4) + [dict(m("F9", "pg", 0, 60), tasks_on_time=9)],
      {"F1": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}, "F9": {"tier": "htnv", "eligible_tier": "htnv", "flags": []}},
      note="6 rated, but only 4 HTTNV count: 20% x 4 -> 0")
def ld(i, head_of):
    r = base("leader"); r.update({"id": i, "head_of": head_of}); return r
def po(i, unit, score):
    r = base("party_org"); r.update({"id": i, "unit": unit, "score": score}); return r
batch(f, "leader_computed_units_over_half_khtnv", C + ", 4 (cán bộ lãnh đạo, 1)",
      [ld("L1", "XA-1"), po("P1", "XA-1", 40), po("P2", "XA-1", 45), po("P3", "XA-1", 80)],
      {"L1": {"tier": "khtnv", "eligible_tier": "khtnv", "flags": []}, "P1": {"tier": "khtnv", "eligible_tier": "khtnv", "flags": []}},
      note="subordinate_tiers computed from the batch (records whose unit is the leader's head_of): 2 of 3 KHTNV > 50%")
batch(f, "leader_computed_units_half_khtnv", C + ", 4 (cán bộ lãnh đạo, 1)",
      [ld("L2", "XA-2"), po("P4", "XA-2", 40), po("P5", "XA-2", 80)],
      {"L2": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}},
      note="1 of 2 KHTNV = 50%: not 'trên 50%', so eligible HTXSNV (then the quota: alone in its group, 0 HTTNV)")
# the same batches through central-366-ty-le-25 (the raise granted): written to that ruleset's tests
Q25 = C + ", 1 (ngoại lệ: nâng tỷ lệ đến 25% số HTTNV)"
files25 = []
def b25(name, recs, expect, note):
    files25.append({"case": name, "clause": Q25, "note": note, "batch": recs, "expect": expect})
b25("quota25_1x_4t_kept", group("B", 1, 4), {"B1": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": []}},
    "keeping B1 leaves 4 HTTNV: 25% x 4 = 1 >= 1 (demoted at 20%)")
b25("quota25_1x_3t_demoted", group("G", 1, 3), {"G1": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}},
    "keeping G1 leaves 3 HTTNV: 25% x 3 = 0,75 -> 0")
b25("quota25_2x_8t_both_kept", group("C", 2, 8), {"C1": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": []},
    "C2": {"tier": "htxsnv", "eligible_tier": "htxsnv", "flags": []}}, "keeping 2 leaves 8: 25% x 8 = 2 (one is demoted at 20%)")
b25("quota25_3x_8t_two_kept", group("H", 3, 8), {"H3": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}},
    "keeping 3 leaves 8: 2 < 3; keeping 2 leaves 9: 2,25 -> 2")
b25("quota25_single_record_rules_unchanged", [m("S1", "pg", 3)], {"S1": {"tier": "httnv", "eligible_tier": "htxsnv", "flags": ["quota_demoted"]}},
    "1 HTXSNV, 0 HTTNV: 25% x 0 = 0")

for name, cases in files.items():
    with open(os.path.join(OUT, name), "w") as fh:
        for c in cases: fh.write(json.dumps(c, ensure_ascii=False) + "\n")
os.makedirs('/work/wt/h366/rulesets/central-366-ty-le-25/tests', exist_ok=True)
with open('/work/wt/h366/rulesets/central-366-ty-le-25/tests/quota.jsonl', "w") as fh:
    for c in files25: fh.write(json.dumps(c, ensure_ascii=False) + "\n")
print(sum(len(v) for v in files.values()), "cases;", len(files25), "quota-25 cases")
