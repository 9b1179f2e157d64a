return function(n)
  local t = setmetatable({}, {__len = function() return math.maxinteger - 2 end, __index = rawget, __newindex = rawequal})
  table.remove(t, 1) return true
end
