-- The seat's first reply reached its customer: the no-answer clock stops, the seat's misses reset.
-- ARGV: prefix, session id, seat, now
-- Returns: 'ok' | 'already' | 'unknown' | 'wrong-seat' | 'ended'
local id, seat, now = ARGV[2], ARGV[3], ARGV[4]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'seat', 'answeredAt', 'queue', 'queuedAt')
if not s[1] then return 'unknown' end
if s[2] ~= seat then return 'wrong-seat' end
if s[1] == 'ended' then return 'ended' end
if s[3] and s[3] ~= '' then return 'already' end
rcall('HSET', key, 'answeredAt', now)
rcall('HSET', K.agent(seat), 'missed', 0)
redue(id) -- its timeout no longer applies
-- The queue and the join time ride along: metrics time the answer from the join without reading the session.
emit('answered', { session = id, seat = seat, queue = s[4], queuedAt = tonumber(s[5]), at = now })
return 'ok'
