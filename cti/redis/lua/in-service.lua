-- The allocated seat accepted the customer's first message.
-- ARGV: prefix, session id, seat, now
-- Returns: 'ok' | 'already' | 'unknown' | 'wrong-seat' | 'ended'
local r = inService(ARGV[2], ARGV[3], ARGV[4])
if r == 'ok' then redue(ARGV[2]) end -- its timeout no longer applies
return r
