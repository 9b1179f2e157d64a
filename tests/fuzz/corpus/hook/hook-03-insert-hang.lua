return function(n)
  local t = setmetatable({}, {__len = function() return math.maxinteger - 2 end, __index = rawget, __newindex = rawequal})
  table.insert(t, 1, 0) return true
end
