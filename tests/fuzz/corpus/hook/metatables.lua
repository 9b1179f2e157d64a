local mt = {__index = function(t, k) return k end, __len = function() return 3 end, __close = function() end}
return function(n) local t <close> = setmetatable({}, mt) return t.x == 'x' and #t == 3 end
