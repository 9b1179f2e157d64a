-- Reproducers for hook calls that escaped the instruction budget (/work/shared/reliability, issue 12).
-- hook disabled), so the 5,000,000-instruction budget never fires.
local bad = {}
-- string.find plain search is O(n*m) in C (lmemfind): 4 MiB haystack, 2 MiB needle, 12 MiB < 16 MiB limit
function bad.find_quadratic()
  local s = string.rep('a', 4 * 1024 * 1024)
  local p = string.rep('a', 2 * 1024 * 1024) .. 'b'
  return s:find(p, 1, true) == nil
end
-- table.sort / insert / remove loop in C over a length given by __len, each element access going
-- through C metamethods (rawlen / rawget / rawequal), so no Lua instruction is counted and no memory is used
function bad.sort_hang()
  local t = setmetatable({}, {__len = function() return (1 << 31) - 2 end, __index = rawlen, __newindex = rawequal})
  table.sort(t) return true
end
function bad.insert_hang()
  local t = setmetatable({}, {__len = function() return math.maxinteger - 2 end, __index = rawget, __newindex = rawequal})
  table.insert(t, 1, 0) return true
end
function bad.remove_hang()
  local t = setmetatable({}, {__len = function() return math.maxinteger - 2 end, __index = rawget, __newindex = rawequal})
  table.remove(t, 1) return true
end
-- xpcall whose message handler loops: once the budget error is raised from inside the count hook,
-- the handler is re-entered with hooks disabled and never stops
function bad.xpcall_loop()
  return xpcall(error, function() while true do end end)
end
-- Added with the fix (not a reproducer of the issue): C work with few Lua
-- instructions (each s:upper() is one call on 4 MiB), so only the CPU-time
-- limit can end it.
function bad.cpu_heavy()
  local s = string.rep('a', 4 * 1024 * 1024)
  while true do local _ = s:upper() end
end
return function(mode, tasks)
  local f = bad[mode]
  if f then return f() end
  return tasks >= 5
end
