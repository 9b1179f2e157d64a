return function(n, s) return s:upper():lower():reverse():sub(2, -2):byte(1) ~= -1 and ('%d %s'):format(n, s) ~= '' and utf8.len(s) ~= 0 end
