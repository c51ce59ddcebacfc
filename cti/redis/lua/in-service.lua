-- The allocated seat accepted the customer's first message.
-- ARGV: prefix, session id, seat, now
-- Returns: 'ok' | 'already' | 'unknown' | 'wrong-seat' | 'ended'
local id, seat, now = ARGV[2], ARGV[3], ARGV[4]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'seat', 'queue', 'customer')
if not s[1] then return 'unknown' end
if s[2] ~= seat then return 'wrong-seat' end
if s[1] == 'ended' then return 'ended' end
if s[1] == 'in-service' then return 'already' end
rcall('HSET', key, 'state', 'in-service', 'inServiceAt', now)
redue(id) -- its timeout no longer applies
emit('in-service', { session = id, queue = s[3], customer = s[4], seat = seat, at = now })
return 'ok'
