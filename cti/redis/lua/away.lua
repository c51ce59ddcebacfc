-- The customer of a live session went offline: keep the session (and its place in line) for a grace
-- period in which the customer may resume it (a page reload); expire-away.lua ends it after.
-- Plain-chat sessions cannot resume, so they are not kept.
-- ARGV: prefix, session id, now, grace (ms)
-- Returns: 1 when marked away, 0 when the session is not live or is a plain-chat one.
local id, now, grace = ARGV[2], ARGV[3], tonumber(ARGV[4])
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'customer', 'plain')
if s[1] ~= 'queued' and s[1] ~= 'assigned' and s[1] ~= 'in-service' then return 0 end
if s[3] == '1' then return 0 end
rcall('HSET', key, 'awaySince', now)
local deadline = tonumber(now) + grace
rcall('ZADD', K.away(), deadline, id)
reline(id)
emit('customer-away', { session = id, customer = s[2], at = now, ['until'] = deadline })
return 1
