-- used by hooks_decl.quy: a syntax error on line 3
return function(x)
  return x +
end
