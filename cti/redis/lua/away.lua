-- The customer of an assigned or in-service session went offline: keep the session for a grace
-- period in which the customer may resume it (a page reload); expire-away.lua ends it after.
-- ARGV: prefix, session id, now, grace (ms)
-- Returns: 1 when marked away, 0 when the session is not assigned or in service.
local id, now, grace = ARGV[2], ARGV[3], tonumber(ARGV[4])
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'customer')
if s[1] ~= 'assigned' and s[1] ~= 'in-service' then return 0 end
rcall('HSET', key, 'awaySince', now)
rcall('ZADD', K.away(), tonumber(now) + grace, id)
emit('customer-away', { session = id, customer = s[2], at = now })
return 1
