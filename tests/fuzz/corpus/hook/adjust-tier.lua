return {f = function(n) return n > 0 end, adj = function(n, p) return {reason = 'r', tier = tier.htnv} end}
