-- Sets an agent's state. Going offline ends every session of the agent.
-- ARGV: prefix, agent JID, state ('offline'|'not-ready'|'ready'), now, ended-session TTL (ms), handle-time weight,
--       reason (why not ready; kept only for not-ready)
-- Returns: false for an unknown agent, else {previous state, ended session ids...}
local jid, state, now, ttl, weight = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local agent = K.agent(jid)
local previous = rcall('HGET', agent, 'state')
if not previous then return false end
rcall('HSET', agent, 'reason', state == 'not-ready' and ARGV[7] or '')
if previous ~= state then
  rcall('HSET', agent, 'state', state)
  if state == 'ready' then rcall('HSET', agent, 'freeSince', now) end
  emit('agent-state', { agent = jid, state = state, at = now })
end
local result = { previous }
if state == 'offline' then
  for _, id in ipairs(rcall('SMEMBERS', K.agentSessions(jid))) do
    if endSession(id, 'seat-offline', now, ttl, weight) then table.insert(result, id) end
  end
end
reseat(jid)
return result
