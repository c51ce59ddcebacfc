-- Ends a live session (a queued one leaves its queue, an assigned one frees its seat).
-- ARGV: prefix, session id, reason, now, ended-session TTL (ms), handle-time weight
-- Returns: the session as it was (flat HGETALL), or false when it was not live.
return endSession(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]))
