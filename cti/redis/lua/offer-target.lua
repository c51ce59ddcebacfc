-- Records which of an agent's clients takes XEP-0142 offers (it announced itself to a queue with
-- <agent-status/>), or forgets it ('' when that client went away).
-- ARGV: prefix, agent bare JID, full JID ('' to forget), only-if-current full JID ('' for any)
local agent = K.agent(ARGV[2])
if rcall('EXISTS', agent) == 0 then return 0 end
if ARGV[4] ~= '' and rcall('HGET', agent, 'offerJid') ~= ARGV[4] then return 0 end
rcall('HSET', agent, 'offerJid', ARGV[3])
return 1
