-- Whether an agent that takes calls has a phone registered now (the soft switch's registrar says so).
-- ARGV: prefix, agent JID, registered ('1'|'0'), now
-- Returns: 1 when that changed, 0 when not, false for an unknown agent or one that takes no calls
local jid, registered, now = ARGV[2], ARGV[3], ARGV[4]
local agent = K.agent(jid)
local a = rcall('HMGET', agent, 'voice', 'phone', 'skills')
if a[1] ~= '1' then return false end
if (a[2] or '0') == registered then return 0 end
rcall('HSET', agent, 'phone', registered, 'skills', withVoice(a[3] or '', registered == '1'))
reseat(jid, a[3] or '')
emit('phone', { agent = jid, registered = registered, at = now })
return 1
