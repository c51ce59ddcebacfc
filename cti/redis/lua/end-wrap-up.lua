-- Ends an agent's wrap-up early: the agent is done with its after-chat work.
-- ARGV: prefix, agent JID, now
-- Returns: 1 when it was wrapping up, 0 otherwise (or no such agent).
local jid, now = ARGV[2], ARGV[3]
local agent = K.agent(jid)
if (tonumber(rcall('HGET', agent, 'wrapUntil')) or 0) <= tonumber(now) then return 0 end
rcall('HSET', agent, 'wrapUntil', 0)
emit('wrap-up-ended', { agent = jid, at = now })
return 1
