-- Moves a live session to the customer's new JID (the page reloaded and logged in again).
-- ARGV: prefix, session id, token, new customer full JID, now
-- Returns: 'ok' | 'unknown' | 'ended' | 'forbidden' (wrong token) | 'conflict' (the new JID has another session)
local id, token, customer, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'token', 'customer', 'queue', 'seat', 'plain', 'form')
if not s[1] then return 'unknown' end
if s[1] == 'ended' then return 'ended' end
if s[2] ~= token then return 'forbidden' end
local other = rcall('GET', K.customer(customer))
if other and other ~= id then return 'conflict' end
if rcall('GET', K.customer(s[3])) == id then rcall('DEL', K.customer(s[3])) end
rcall('SET', K.customer(customer), id)
rcall('HSET', key, 'customer', customer, 'awaySince', '')
rcall('ZREM', K.away(), id)
reline(id)
emit('resumed', { session = id, queue = s[4], customer = customer, previous = s[3], seat = s[5] or '', plain = s[6],
  state = s[1], form = s[7], at = now })
return 'ok'
