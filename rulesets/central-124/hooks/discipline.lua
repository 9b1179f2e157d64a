-- =====================================================================
-- central-124 hooks: discipline decided this year, attributed to the
-- time (Điều 12, 4.5) and the place (4.6, 4.7) of the violation.
--
-- Both hooks read the record's `discipline_decisions`: every discipline
-- decision (or aggravation of an earlier one) taken in the rating year,
-- each with the year and the unit of the violation. The field is optional:
-- absent (nil), neither hook does anything.
--
-- Choices (docs/rulesets/central-124.md, "Hooks: 4.5–4.7"):
--   * The rating year is the 4 digits that start `period` ("2024",
--     "2026-Q2").
--   * 4.5: a decision about a violation of an earlier year is rated again
--     at the time of the violation. It is therefore not "bị xử lý kỷ luật
--     trong năm đánh giá" (4.3 d) for this year: when every decision of
--     the year concerns an earlier year, `disciplined` is read as false
--     for this year's rating, and the explanation says why. The earlier
--     year is named in the `rerate` flag.
--   * 4.6 / 4.7: a violation at a unit other than the record's `unit`
--     counts for that unit, at the time of the violation; the current
--     unit is not held responsible for it. The person's own rating is not
--     changed by 4.6/4.7 (4.3 d is about the person, wherever the
--     violation happened). Without `unit`, the units cannot be compared
--     and nothing is said.
-- =====================================================================

local M = {}

-- The year a rating period belongs to: "2024" -> 2024, "2026-Q2" -> 2026.
local function rating_year(period)
  local y = 0
  for i = 1, 4 do
    local c = period:byte(i)
    if c == nil or c < 48 or c > 57 then
      error("kỳ đánh giá '" .. period .. "' không bắt đầu bằng năm (period does not start with a year)")
    end
    y = y * 10 + (c - 48)
  end
  return y
end

-- "2021, 2022" from a set of years, in order.
local function year_list(set)
  local ys = {}
  for y in pairs(set) do ys[#ys + 1] = y end
  table.sort(ys)
  for i, y in ipairs(ys) do ys[i] = tostring(y) end
  return table.concat(ys, ", "), #ys
end

-- 124-QĐ/TW Điều 12, 4.5 (adjust ... record): name the years to re-rate,
-- and keep a late decision out of this year's 4.3 d.
function M.rerate(period, disciplined, decisions)
  if decisions == nil or #decisions == 0 then return nil end
  local year = rating_year(period)
  local earlier, aggravated, current = {}, false, 0
  for i, d in ipairs(decisions) do
    if d.violation_year > year then
      error(string.format("quyết định kỷ luật thứ %d: năm vi phạm %d sau năm đánh giá %d "
        .. "(violation_year is after the rating year)", i, d.violation_year, year))
    elseif d.violation_year < year then
      earlier[d.violation_year] = true
      aggravated = aggravated or d.aggravated
    else
      current = current + 1
    end
  end
  if current > 0 and not disciplined then
    error(string.format("có %d quyết định kỷ luật về vi phạm năm %d nhưng 'disciplined' là false "
      .. "(a decision about a violation of the rating year, but disciplined is false)", current, year))
  end
  local years, n = year_list(earlier)
  if n == 0 then return nil end
  local what = aggravated and "Quyết định kỷ luật (hoặc tăng nặng hình thức kỷ luật)" or "Quyết định kỷ luật"
  local reason = string.format("%s trong năm %d về khuyết điểm, vi phạm năm %s: xếp loại lại năm %s tại thời điểm xảy ra vi phạm",
    what, year, years, years)
  if disciplined and current == 0 then
    return {
      reason = reason .. string.format("; không tính là bị xử lý kỷ luật trong năm đánh giá %d (4.3 d)", year),
      fields = { disciplined = false },
    }
  end
  if current > 0 then
    reason = reason .. string.format("; năm %d vẫn có kỷ luật về vi phạm trong năm (4.3 d)", year)
  end
  return { reason = reason }
end

-- 124-QĐ/TW Điều 12, 4.6 and 4.7 (adjust ... record, a note only): which
-- unit, at which time, each decision counts for.
function M.discipline_attribution(period, unit, decisions)
  if decisions == nil or unit == nil then return nil end
  rating_year(period) -- a period that names no year is an error here too
  local elsewhere, here = {}, {}
  local units = {}
  for _, d in ipairs(decisions) do
    if d.violation_unit == unit then
      here[#here + 1] = d.violation_year
    else
      if not elsewhere[d.violation_unit] then
        elsewhere[d.violation_unit] = {}
        units[#units + 1] = d.violation_unit
      end
      elsewhere[d.violation_unit][d.violation_year] = true
    end
  end
  if #units == 0 then return nil end
  table.sort(units)
  local parts = {}
  for _, u in ipairs(units) do
    parts[#parts + 1] = string.format("%s (năm %s)", u, (year_list(elsewhere[u])))
  end
  if #here == 0 then
    return { reason = string.format(
      "Vi phạm xảy ra ở cơ quan, đơn vị cũ, bị xử lý kỷ luật ở đơn vị mới %s: tính vào kết quả đánh giá, xếp loại của %s; "
      .. "không quy trách nhiệm cho %s (4.6)", unit, table.concat(parts, ", "), unit) }
  end
  local hs = {}
  for _, y in ipairs(here) do hs[y] = true end
  return { reason = string.format(
    "Vi phạm xảy ra ở cả đơn vị cũ và đơn vị mới: tính theo thời điểm vi phạm tại mỗi đơn vị — %s; %s (năm %s) (4.7)",
    table.concat(parts, ", "), unit, (year_list(hs))) }
end

return M
