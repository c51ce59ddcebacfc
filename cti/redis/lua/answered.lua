-- The seat's first reply reached its customer: the no-answer clock stops, the seat's misses reset.
-- ARGV: prefix, session id, seat, now
-- Returns: 'ok' | 'already' | 'unknown' | 'wrong-seat' | 'ended'
local r = answered(ARGV[2], ARGV[3], ARGV[4])
if r == 'ok' then redue(ARGV[2]) end -- the no-answer clock stops
return r
