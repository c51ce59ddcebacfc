-- The seat did not answer in time: the customer goes back to the head of its queue (its original
-- arrival number), the seat is freed and counts a miss; after maxNoAnswer misses in a row it is
-- set not ready (auto-pause).
-- ARGV: prefix, session id, now, maxNoAnswer (0: never pause), pause reason, rest (ms the seat is not
--       allocated after the miss, as a wrap-up; 0 for none)
-- Returns: false when the session is not assigned or in service, or was answered; else {paused (0|1)}
local id, now, maxNoAnswer, reason = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local key = K.session(id)
local s = toMap(rcall('HGETALL', key))
if (s.state ~= 'assigned' and s.state ~= 'in-service') or (s.answeredAt and s.answeredAt ~= '') then return false end
local seat, agent = s.seat, K.agent(s.seat)
release(s)
rcall('SREM', K.agentSessions(seat), id)
local rest = tonumber(ARGV[6]) or 0
if rest > 0 then restUntil(agent, tonumber(now) + rest) end
local missed = rcall('HINCRBY', agent, 'missed', 1)
local paused = 0
if maxNoAnswer > 0 and missed >= maxNoAnswer and rcall('HGET', agent, 'state') == 'ready' then
  rcall('HSET', agent, 'state', 'not-ready', 'reason', reason, 'missed', 0)
  emit('agent-state', { agent = seat, state = 'not-ready', at = now })
  paused = 1
end
local missedBy = (s.missedBy and s.missedBy ~= '') and (s.missedBy .. ',' .. seat) or seat
rcall('HSET', key, 'state', 'queued', 'seat', '', 'assignedAt', '', 'inServiceAt', '', 'missedBy', missedBy, 'weight', 1)
reseat(seat)
reline(id)
emit('requeued', { session = id, queue = s.queue, customer = s.customer, seat = seat, plain = s.plain,
  paused = tostring(paused), media = s.media or 'chat', handle = s.handle or '', at = now })
return { paused }
