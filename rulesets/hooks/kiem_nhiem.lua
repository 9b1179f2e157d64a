-- Shared hook (rulesets/hooks/): cho-chu-2024 and ha-tinh-city-2023 both declare
-- `from "hooks/kiem_nhiem.lua"`; not found beside them or their parent, it is
-- found here, in the ruleset search path (docs/hooks-guide.md, "Where a hook file is found").
-- =====================================================================
-- Concurrent posts: a cadre who holds several posts is rated only at the
-- highest one; among equivalent posts, where more time is served.
--   124-QĐ/TW Điều 7, 2.3: "đánh giá, xếp loại chất lượng cán bộ, công
--   chức, viên chức ở nơi giữ chức vụ cao nhất";
--   HT II.7.7 / KH Chợ Chu 2024 I.6, II.2.2, III.3: "kiêm nhiệm nhiều chức
--   danh, chức vụ tương đương thì đánh giá, xếp loại chất lượng hằng năm
--   ở nơi có thời gian công tác nhiều hơn".
--
-- An `adjust leader tier` step. Each post is a leader record of its own;
-- each record names the person's other posts (concurrent_posts: their
-- record id, rank and months served) and its own rank (post_rank; its
-- months are months_in_role). Choices (see the ruleset's docs):
--   * Rank 1 is the highest post; a smaller number is a higher post.
--   * A record whose post is not the one to rate becomes not_rated, and
--     its note names the record where the person is rated.
--   * The record that is rated gets a note naming the others.
--   * Equal rank and equal months: the texts do not say where to rate.
--     The record stays rated and the note says so (both such records are
--     rated; the competent committee decides, cf. HT II.7.3).
-- Without post_rank or concurrent_posts the step does nothing.
-- =====================================================================

-- Is post a (rank, months) to be rated before post b?
local function before(ar, am, br, bm)
  if ar ~= br then return ar < br end
  return am > bm
end

return function(post_rank, months_in_role, posts)
  if post_rank == nil or posts == nil or #posts == 0 then return nil end
  local best = nil -- the other post to rate at, if any beats this one
  local ties, others = {}, {}
  for _, p in ipairs(posts) do
    others[#others + 1] = p.record_id
    if before(p.post_rank, p.months_served, post_rank, months_in_role) then
      if best == nil or before(p.post_rank, p.months_served, best.post_rank, best.months_served) then best = p end
    elseif p.post_rank == post_rank and p.months_served == months_in_role then
      ties[#ties + 1] = p.record_id
    end
  end
  if best then
    local why
    if best.post_rank < post_rank then
      why = string.format("đánh giá, xếp loại ở nơi giữ chức vụ cao nhất: hồ sơ %s (chức vụ bậc %d; ở đây bậc %d)",
        best.record_id, best.post_rank, post_rank)
    else
      why = string.format("chức vụ tương đương (bậc %d): đánh giá, xếp loại ở nơi có thời gian công tác nhiều hơn: "
        .. "hồ sơ %s (%d tháng; ở đây %d tháng)", post_rank, best.record_id, best.months_served, months_in_role)
    end
    return { tier = outcome.not_rated, reason = "Kiêm nhiệm nhiều chức vụ: " .. why .. "; hồ sơ này không xếp loại" }
  end
  table.sort(others)
  if #ties > 0 then
    table.sort(ties)
    return { reason = string.format("Kiêm nhiệm chức vụ tương đương (bậc %d) với thời gian công tác bằng nhau (%d tháng) "
      .. "ở hồ sơ %s: văn bản không quy định nơi đánh giá; hồ sơ này vẫn được xếp loại, cấp có thẩm quyền xem xét, quyết định",
      post_rank, months_in_role, table.concat(ties, ", ")) }
  end
  return { reason = string.format("Kiêm nhiệm nhiều chức vụ: đánh giá, xếp loại ở chức vụ này (bậc %d, %d tháng); "
    .. "các hồ sơ %s không xếp loại", post_rank, months_in_role, table.concat(others, ", ")) }
end
