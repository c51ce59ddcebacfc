-- One waiting customer's position (includes.lua positionOf), for a poll or a status sent to it alone.
-- ARGV: prefix, session id, now, aging (ms per priority step)
-- Returns: {queue, customer, plain, position}, or false when the session is not waiting.
local id, now, aging = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local position = positionOf(id, now, aging)
if not position then return false end
local s = rcall('HMGET', K.session(id), 'queue', 'customer', 'plain')
return { s[1], s[2], s[3], position }
