-- The hooks of quy-bench's (e) rows: each does as little as its row needs.
local M = {}

function M.noop(n)
  return nil
end

function M.grades(results, others, total, done)
  local low = 0
  for i = 1, #results do if results[i] < grade.trung_binh then low = low + 1 end end
  for i = 1, #others do if others[i] < grade.trung_binh then low = low + 1 end end
  if low > 100 and done > total then return { reason = "never" } end
  return nil
end

function M.late(done, on_time)
  return on_time > done
end

return M
