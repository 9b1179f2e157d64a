-- a __mode written after setmetatable: the collector ran 6.4 s of CPU (limit 2 s) before the guard
local mt = {}
local es = {}
for j = 1, 8 do es[j] = setmetatable({}, mt) end
mt.__mode = 'k'
local root = {}
local k = root
for i = 1, 1e9 do
  local nk = {}
  es[(i * 5) % 8 + 1][k] = nk
  k = nk
end
return function() return true end
