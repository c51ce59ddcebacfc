-- The allocated seat accepted the customer's first message.
-- ARGV: prefix, session id, seat, now
-- Returns: 'ok' | 'already' | 'unknown' | 'wrong-seat' | 'ended'
return inService(ARGV[2], ARGV[3], ARGV[4])
