-- Ends a live session (a queued one leaves its queue, an assigned one frees its seat).
-- ARGV: prefix, session id, reason, now, ended-session TTL (ms), handle-time weight,
--       only-from state ('' = any live state; e.g. 'assigned' for an assignment timeout)
-- Returns: the session as it was (flat HGETALL), or false when it was not live (or not in that state).
return endSession(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])
