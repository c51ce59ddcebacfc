-- One of a session's parties ends it: its seat, or its customer from any resource of its bare JID.
-- The check and the end in one script: no read of the session before it (a round trip per ended chat).
-- ARGV: prefix, session id, party (a bare JID), now, ended-session TTL (ms), handle-time weight
-- Returns: the session as it was (flat HGETALL), or 'unknown' | 'forbidden' | 'ended'
local id, party = ARGV[2], ARGV[3]
local s = rcall('HMGET', K.session(id), 'state', 'seat', 'customer')
if not s[1] then return 'unknown' end
local reason
if s[2] and s[2] ~= '' and s[2] == party then reason = 'seat'
elseif string.match(s[3], '^[^/]+') == party then reason = 'customer'
else return 'forbidden' end
return endSession(id, reason, ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), '') or 'ended'
