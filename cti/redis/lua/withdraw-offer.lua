-- Takes back a standing offer: one agent rejected it, or (agent '') it timed out for everyone. Whoever
-- let it go is tried last next time (missedBy, bare JIDs); when nobody holds it any more, the customer
-- can be routed again.
-- ARGV: prefix, session id, agent full JID ('' for all: the offer timed out), now
-- Returns: the full JIDs the offer is withdrawn from (comma list), or false when none stood.
local id, agent, now = ARGV[2], ARGV[3], ARGV[4]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'ringing', 'missedBy')
if s[1] ~= 'queued' or not s[2] or s[2] == '' then return false end
local keep, gone = {}, {}
for jid in string.gmatch(s[2], '[^,]+') do
  if agent == '' or jid == agent then table.insert(gone, jid) else table.insert(keep, jid) end
end
if #gone == 0 then return false end
local missed = (s[3] and s[3] ~= '') and { s[3] } or {}
for _, jid in ipairs(gone) do table.insert(missed, string.match(jid, '^[^/]+')) end
rcall('HSET', key, 'ringing', table.concat(keep, ','), 'missedBy', table.concat(missed, ','))
if #keep == 0 then rcall('HSET', key, 'ringUntil', '') end
reline(id)
emit('offer-withdrawn', { session = id, agents = table.concat(gone, ','), reason = agent == '' and 'timeout' or 'rejected',
  at = now })
return table.concat(gone, ',')
