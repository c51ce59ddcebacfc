-- An agent hands its session to another agent (who must be ready with room) or to another queue
-- (the customer keeps its original arrival number there). The old seat is freed either way.
-- ARGV: prefix, session id, from seat, mode ('agent'|'queue'), target (agent JID or queue name),
--       needs in the target queue (comma list; mode queue), now, note for the next agent,
--       by ('' : the seat itself; else the supervisor who moved the session), the target queue's
--       max wait, assign and answer timeouts (ms; mode queue: the deadline set, includes.lua redue)
-- Returns: 'ok' | 'unknown' | 'not-yours' | 'not-live' | 'seat-unavailable'
local id, fromSeat, mode, target, needs, now, note, by = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local key = K.session(id)
local s = toMap(rcall('HGETALL', key))
if not s.state then return 'unknown' end
if s.seat ~= fromSeat then return 'not-yours' end
if s.state ~= 'assigned' and s.state ~= 'in-service' then return 'not-live' end
if mode == 'agent' then
  local a = rcall('HMGET', K.agent(target), 'state', 'active', 'maxChats', 'wrapUntil')
  if target == fromSeat or a[1] ~= 'ready' or tonumber(a[2]) >= tonumber(a[3]) or (tonumber(a[4]) or 0) > tonumber(now) then
    return 'seat-unavailable'
  end
end
local old = K.agent(fromSeat)
rcall('HINCRBY', old, 'active', -1)
rcall('HSET', old, 'freeSince', now)
rcall('SREM', K.agentSessions(fromSeat), id)
local queue = s.queue
if mode == 'agent' then
  rcall('HINCRBY', K.agent(target), 'active', 1)
  rcall('SADD', K.agentSessions(target), id)
  rcall('HSET', key, 'seat', target, 'assignedAt', now, 'answeredAt', '')
else
  queue = target
  rcall('HSET', key, 'queue', target, 'needs', needs, 'state', 'queued', 'seat', '', 'assignedAt', '', 'inServiceAt', '', 'answeredAt', '',
    'waitMs', ARGV[10] or '0', 'assignMs', ARGV[11] or '0', 'answerMs', ARGV[12] or '0')
end
reseat(fromSeat)
if mode == 'agent' then reseat(target) end
reline(id)
emit('transferred', { session = id, customer = s.customer, from = fromSeat, fromQueue = s.queue, queue = queue,
  seat = (mode == 'agent') and target or '', plain = s.plain, form = s.form, note = note, by = by, at = now })
return 'ok'
