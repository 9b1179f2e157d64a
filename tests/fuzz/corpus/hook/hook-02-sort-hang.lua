return function(n)
  local t = setmetatable({}, {__len = function() return (1 << 31) - 2 end, __index = rawlen, __newindex = rawequal})
  table.sort(t) return true
end
