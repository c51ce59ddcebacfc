-- Claims a seat for a queued customer: the one transition that allocates, so a
-- customer is never assigned twice and a seat never goes over its capacity.
-- It also keeps the queue's pace: the moving average time between claims while customers were
-- waiting (the claimed one was already waiting at the previous claim), for wait estimates.
-- ARGV: prefix, session id, seat (agent bare JID), now, pace weight
-- Returns: 'ok' | 'not-queued' | 'seat-unavailable'
local id, seat, now = ARGV[2], ARGV[3], ARGV[4]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'queue', 'customer', 'plain', 'form', 'queuedAt', 'ringing', 'media', 'handle')
if s[1] ~= 'queued' then return 'not-queued' end
local agent = K.agent(seat)
local a = rcall('HMGET', agent, 'state', 'active', 'maxChats', 'wrapUntil', 'phone', 'calls', 'chatsInCall')
if a[1] ~= 'ready' or tonumber(a[2]) >= tonumber(a[3]) or (tonumber(a[4]) or 0) > tonumber(now) then
  return 'seat-unavailable'
end
-- A call needs a registered phone not already on a call, and takes the whole seat unless chats may go on
-- during calls: its weight is what it adds to the seat's active count, taken back when it ends.
local voice = s[8] == 'voice'
local weight = 1
if voice then
  if a[5] ~= '1' or (tonumber(a[6]) or 0) > 0 then return 'seat-unavailable' end
  if a[7] ~= '1' then weight = tonumber(a[3]) - tonumber(a[2]) end
  rcall('HINCRBY', agent, 'calls', 1)
end
-- An offer to several agents ends with this claim: the others' offers are revoked (see the event).
rcall('HSET', key, 'state', 'assigned', 'seat', seat, 'assignedAt', now, 'ringing', '', 'ringUntil', '', 'weight', weight)
rcall('HINCRBY', agent, 'active', weight)
rcall('HSET', agent, 'lastAssigned', now)
rcall('SADD', K.agentSessions(seat), id)
reline(id)
reseat(seat)
local pace, q = K.pace(), s[2]
local last = tonumber(rcall('HGET', pace, q .. ':last'))
rcall('HSET', pace, q .. ':last', now)
if last and tonumber(s[6]) <= last then
  local gap = tonumber(now) - last
  local previous = tonumber(rcall('HGET', pace, q .. ':gap'))
  local weight = tonumber(ARGV[5])
  rcall('HSET', pace, q .. ':gap', tostring(previous and (previous * (1 - weight) + gap * weight) or gap))
end
emit('assigned', { session = id, queue = s[2], customer = s[3], seat = seat, plain = s[4], form = s[5], queuedAt = s[6],
  rang = s[7] or '', media = s[8] or 'chat', handle = s[9] or '', at = now })
return 'ok'
