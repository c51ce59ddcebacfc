-- Puts every live session in its routing line (or out of it) again: at start-up, so data written by a
-- version without routing lines, or by hand, is routed. Agents are re-indexed by upsert-agent.lua.
-- ARGV: prefix
-- Returns: the number of live sessions looked at.
local live = rcall('SMEMBERS', K.live())
for _, id in ipairs(live) do reline(id) end
return #live
