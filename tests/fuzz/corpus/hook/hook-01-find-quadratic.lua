return function(n)
  local s = string.rep('a', 4 * 1024 * 1024)
  local p = string.rep('a', 2 * 1024 * 1024) .. 'b'
  return s:find(p, 1, true) == nil
end
