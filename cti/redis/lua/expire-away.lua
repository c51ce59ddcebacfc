-- Ends every session whose customer stayed away past its grace period.
-- ARGV: prefix, now, ended-session TTL (ms), handle-time weight
-- Returns: the ids of the sessions ended.
local now, ttl, weight = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local ended = {}
for _, id in ipairs(rcall('ZRANGEBYSCORE', K.away(), '-inf', now)) do
  rcall('ZREM', K.away(), id)
  if endSession(id, 'customer-offline', now, ttl, weight) then table.insert(ended, id) end
end
return ended
