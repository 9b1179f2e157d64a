-- central124.lua — central-124's rate blocks for `member` and `leader`,
-- written as a user would write them in plain Lua 5.4 instead of using
-- Quy: one table per record with the contract's field names (as a JSON
-- decoder would give them: grades and tiers as strings, absent optional
-- fields nil, percents as numbers 0-100), a function per kind, the rules in
-- the ruleset's order. Shares use Lua's float division; with the small
-- integer counts of the benchmark every boundary (50 %, 70 %, 80 %, 20 %)
-- still compares exactly.
--
-- The chunk returns { rate = rate, rate_all = rate_all }.

local GRADE = { kem = 0, trung_binh = 1, tot = 2, xuat_sac = 3 }
local TIER = { khtnv = 0, htnv = 1, httnv = 2, htxsnv = 3 }
local EXEMPLARY = { khong = 0, guong_mau = 1, thuc_su_guong_mau = 2 }

-- share(x, 0) = 0, as in Quy.
local function share(a, b)
  if b == 0 then return 0 end
  return a / b
end

local function any_kem(list)
  for i = 1, #list do
    if list[i] == "kem" then return true end
  end
  return false
end

local function all_at_least(list, rank, min)
  for i = 1, #list do
    if rank[list[i]] < min then return false end
  end
  return true
end

-- Điều 12, 4 and 4.3: the disqualifiers members and leaders share.
local function individual_khtnv(r)
  if any_kem(r.result_grades) or any_kem(r.other_grades) then return true end
  if r.degraded or r.prohibited_conduct or r.exemplary_breach then return true end
  if share(r.tasks_total - r.tasks_completed, r.tasks_total) > 0.5 then return true end
  local lc = r.low_confidence_pct
  if lc ~= nil and lc > 50 then return true end
  if r.disciplined and not r.self_remedied then return true end
  return false
end

local function rate_member(r)
  if r.exempt or r.suspended or r.months_in_role < 6 then return "not_rated" end
  if individual_khtnv(r) then return "khtnv" end
  local total, done, on_time = r.tasks_total, r.tasks_completed, r.tasks_on_time
  local rg, og = r.result_grades, r.other_grades
  if r.outstanding and all_at_least(og, GRADE, 2) and all_at_least(rg, GRADE, 3)
     and total > 0 and on_time == total and share(r.tasks_exceeded, total) >= 0.5 then
    return "htxsnv"
  end
  if all_at_least(og, GRADE, 1) and all_at_least(rg, GRADE, 2) and on_time == total then
    return "httnv"
  end
  if all_at_least(og, GRADE, 1) and all_at_least(rg, GRADE, 1) and done == total
     and share(done - on_time, total) <= 0.2 then
    return "htnv"
  end
  return "khtnv"
end

-- Subordinate tiers are optional: an absent list (nil) passes.
local function subs_all_htnv(subs)
  return subs == nil or all_at_least(subs, TIER, 1)
end

local function subs_70(subs, min)
  if subs == nil or #subs == 0 then return true end
  local k = 0
  for i = 1, #subs do
    if TIER[subs[i]] >= min then k = k + 1 end
  end
  return share(k, #subs) >= 0.7
end

local function rate_leader(r)
  if individual_khtnv(r) then return "khtnv" end
  local ut, uc = r.unit_targets_total, r.unit_targets_completed
  if ut > 0 and share(uc, ut) < 0.7 then return "khtnv" end
  if r.unit_tier == "khtnv" then return "khtnv" end
  if r.subordinate_corruption and not r.subordinate_corruption_self_remedied then return "khtnv" end
  local total, done, on_time = r.tasks_total, r.tasks_completed, r.tasks_on_time
  local rg, og, subs = r.result_grades, r.other_grades, r.subordinate_tiers
  local ex = EXEMPLARY[r.exemplary]
  if r.outstanding and all_at_least(og, GRADE, 2) and all_at_least(rg, GRADE, 3)
     and total > 0 and on_time == total and share(r.tasks_exceeded, total) >= 0.5
     and ex == 2 and ut > 0 and uc == ut and share(r.unit_targets_exceeded, ut) >= 0.5
     and subs_all_htnv(subs) and subs_70(subs, 2) then
    return "htxsnv"
  end
  if all_at_least(og, GRADE, 1) and all_at_least(rg, GRADE, 2) and on_time == total
     and ex >= 1 and ut > 0 and uc == ut and share(r.unit_work_on_time, r.unit_work_total) >= 0.8
     and subs_all_htnv(subs) then
    return "httnv"
  end
  if all_at_least(og, GRADE, 1) and all_at_least(rg, GRADE, 1) and done == total
     and share(done - on_time, total) <= 0.2 and ex >= 1 and share(uc, ut) > 0.7
     and subs_70(subs, 1) then
    return "htnv"
  end
  return "khtnv"
end

local function rate(r)
  local kind = r.kind
  if kind == "member" then return rate_member(r) end
  if kind == "leader" then return rate_leader(r) end
  return nil
end

-- What a user's driver does: rate every record of an array.
local function rate_all(records, out)
  for i = 1, #records do
    out[i] = rate(records[i])
  end
end

return { rate = rate, rate_all = rate_all }
