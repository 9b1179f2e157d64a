local f = load('return 1 + 1')
return function(n) return f() == 2 and load('\27Lua') == nil end
