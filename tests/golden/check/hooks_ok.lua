-- used by hooks_decl.quy
return {
  prorate = function(total, months) return (total * months + 11) // 12 end,
  note = function(year) return nil end,
}
