return function(n) if n < 0 then error({}) elseif n > 5 then error('big ' .. n) end return 1.5 end
