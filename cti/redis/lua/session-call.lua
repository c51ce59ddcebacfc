-- A call inside a chat session (issue 11: a chat turns into a call to the same seat without queueing
-- again): its ringing, answer and end, on the session (callHandle: the call on now) and in the event log.
-- The session stays a chat, keeps its seat and capacity, and goes on when the call ends.
-- ARGV: prefix, session id, the call's handle (its Call-ID), phase ('ringing'|'answered'|'ended'), now, ttl
-- Returns: 1, or false (ringing: no such session being served as a chat, or a call is on already;
-- answered and ended: that is not the session's call)
local id, handle, phase, now, ttl = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'seat', 'media', 'callHandle', 'customer', 'queue')
if not s[1] then return false end
if phase == 'ringing' then
  if (s[1] ~= 'assigned' and s[1] ~= 'in-service') or s[3] ~= 'chat' or (s[4] or '') ~= '' then return false end
  rcall('HSET', key, 'callHandle', handle)
  rcall('SET', K.callHandle(handle), id)
elseif (s[4] or '') ~= handle then
  return false
elseif phase == 'ended' then
  rcall('HSET', key, 'callHandle', '')
  rcall('PEXPIRE', K.callHandle(handle), ttl)
end
emit('call', { session = id, handle = handle, phase = phase, seat = s[2], customer = s[5], queue = s[6], at = now })
return 1
