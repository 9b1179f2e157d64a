-- Refuses 7, in words.
return function(a)
  if a == 7 then error("bảy không được (seven is refused)") end
  return false
end
