-- A call's seat answered: the session is in service and answered by the seat it was allocated (both
-- transitions and their events, as in-service.lua then answered.lua), read and written in one step.
-- ARGV: prefix, session id, now
-- Returns: 'ok'; 'chat' when the session is a chat (the call is the chat's own: session-call.lua);
--          'none' when it is unknown or has no seat.
local id, now = ARGV[2], ARGV[3]
local s = rcall('HMGET', K.session(id), 'media', 'seat')
if (s[2] or '') == '' then return 'none' end
if s[1] ~= 'voice' then return 'chat' end
inService(id, s[2], now)
answered(id, s[2], now)
redue(id) -- its timeouts no longer apply (once for both)
return 'ok'
