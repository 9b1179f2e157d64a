-- =====================================================================
-- ha-tinh-city-2023, HT II.7.12 (second sentence): "Đảng viên nghỉ ốm
-- tổng thời gian trong năm từ 03 tháng trở lên hoặc đảng viên nghỉ thai
-- sản thì kết quả xếp loại chất lượng trong năm là kết quả xếp loại chất
-- lượng của thời gian làm việc thực tế của năm đó."
--
-- An `adjust member record` step: before the rules, the tasks of the year
-- are brought down to the months actually worked, and the explanation
-- says so. Choices (docs/rulesets/ha-tinh-city-2023.md, H-19):
--   * 7.12 applies when sick leave totals 3 months or more, or when the
--     member took maternity leave (any length).
--   * Months actually worked = 12 - sick leave - maternity leave (all
--     leave of the year is deducted once 7.12 applies), never below 0.
--     Months are exact (sick_leave_months 3.5 is three and a half).
--   * Maternity leave without its length (maternity_leave_months absent)
--     cannot be deducted: the tasks are left as they are and the note says
--     what is missing.
--   * The tasks of the actual working time: ceil(tasks_total x worked /
--     12), the share of the year's tasks that falls in the months worked,
--     a started task counted whole; but never fewer than the tasks
--     actually completed (what was done is not discarded). Only
--     tasks_total changes: completed, on-time and exceeded counts are
--     counts of work done, so every 124 ratio (4.3 b, 1.2, 2.2, 3.2) is
--     then taken over the working time.
-- =====================================================================

local function months(x)
  -- "3.5" for 7/2, "8" for 8
  return tostring(x)
end

return function(tasks_total, tasks_completed, sick_leave_months, maternity_leave, maternity_leave_months)
  local sick = sick_leave_months
  if sick < 3 and not maternity_leave then return nil end

  local why
  if sick >= 3 and maternity_leave then
    why = "Nghỉ ốm " .. months(sick) .. " tháng (từ 3 tháng trở lên) và nghỉ thai sản"
  elseif sick >= 3 then
    why = "Nghỉ ốm " .. months(sick) .. " tháng trong năm (từ 3 tháng trở lên)"
  else
    why = "Nghỉ thai sản trong năm"
  end
  if maternity_leave and maternity_leave_months == nil then
    return { reason = why .. ": xếp loại theo thời gian làm việc thực tế, nhưng hồ sơ không ghi số tháng nghỉ thai sản "
      .. "(maternity_leave_months) nên chỉ tiêu, nhiệm vụ chưa được tính lại theo thời gian làm việc" }
  end

  local away = sick + (maternity_leave and maternity_leave_months or 0)
  local worked = 12 - away
  if worked < 0 then worked = 0 end
  local expected = quy.ceil(quy.ratio(1, 12) * worked * tasks_total)
  local total = expected
  if tasks_completed > total then total = tasks_completed end

  local reason = string.format("%s: xếp loại theo thời gian làm việc thực tế %s/12 tháng; chỉ tiêu, nhiệm vụ của thời gian "
    .. "làm việc thực tế = %d × %s/12, làm tròn lên = %d", why, months(worked), tasks_total, months(worked), expected)
  if total > expected then
    reason = reason .. string.format(", nhưng không ít hơn %d đã hoàn thành", tasks_completed)
  end
  if total == tasks_total then
    return { reason = reason .. ": không thay đổi" }
  end
  return { reason = reason, fields = { tasks_total = total } }
end
