-- Offers a queued customer to agents (XEP-0142 offers): to the one chosen seat, or to every eligible
-- seat for a ring-all queue. Nothing is reserved: the first agent to accept claims the customer
-- (claim.lua), and the others' offers are revoked. The customer keeps its place meanwhile.
-- ARGV: prefix, session id, offered agent JIDs (comma list of full JIDs), now, until (ms)
-- Returns: 1 when offered, 0 when the session is not queued or already has an offer standing.
local id, agents, now, untilMs = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'ringUntil', 'queue', 'customer', 'plain', 'form')
if s[1] ~= 'queued' or (s[2] and s[2] ~= '' and tonumber(s[2]) > tonumber(now)) then return 0 end
rcall('HSET', key, 'ringing', agents, 'ringUntil', untilMs)
reline(id)
emit('offered', { session = id, queue = s[3], customer = s[4], plain = s[5], form = s[6], agents = agents,
  timeout = tostring(math.floor((tonumber(untilMs) - tonumber(now)) / 1000)), at = now })
return 1
