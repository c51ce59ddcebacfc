-- A call ended in the soft switch: ends its session (end.lua), read and written in one step.
-- ARGV: prefix, session id, reason, reason when it was still queued, now, ended-session TTL (ms), handle-time weight
-- Returns: the session as it was (flat HGETALL); 'chat' when the session is a chat (the call was the
--          chat's own: session-call.lua); false when it is unknown or ended.
local id = ARGV[2]
local s = rcall('HMGET', K.session(id), 'media', 'state')
if not s[2] or s[2] == 'ended' then return false end
if s[1] ~= 'voice' then return 'chat' end
return endSession(id, s[2] == 'queued' and ARGV[4] or ARGV[3], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), '')
