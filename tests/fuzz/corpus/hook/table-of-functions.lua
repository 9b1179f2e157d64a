local M = {}
function M.f(n, s, g, xs, p, d)
  local t = 0
  for _, x in ipairs(xs) do t = t + x end
  return g >= grade.tot and (p == nil or p > quy.ratio(1, 2)) and #s >= 0 and t >= 0 and (d == nil or d:sub(1, 4) == '2024')
end
function M.adj(n, p)
  if n < 5 then return {reason = 'x', fields = {n = n * 2}} end
end
return M
