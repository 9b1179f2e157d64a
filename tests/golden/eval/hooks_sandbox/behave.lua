-- One function, many misbehaviours, chosen by the record.
local bad = {}

function bad.os() return os.execute("echo escaped") == 0 end
function bad.io() return io.open("/etc/passwd") ~= nil end
function bad.require() return require("os") ~= nil end
function bad.loop() while true do end end
function bad.caught_loop() while true do pcall(function() while true do end end) end end
function bad.alloc()
  local t = {}
  while true do t[#t + 1] = string.rep("x", 65536) end
end
function bad.tier() return "httnv" end
function bad.float() return 0.5 end
function bad.raise() error("không đọc được hồ sơ kỷ luật") end
function bad.bytecode() return load("\27Lua\84\0") ~= nil or string.dump(print) end
function bad.strmeta() getmetatable("").__index.upper = nil return true end
function bad.global() leaked = true return true end

return function(mode, tasks)
  local f = bad[mode]
  if f then return f() end
  return tasks >= 5
end
