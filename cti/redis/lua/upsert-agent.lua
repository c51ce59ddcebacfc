-- Adds or updates an agent's profile, keeping its state and sessions. A supervisor's change for the day
-- (adjust-agent.lua) stands over the configured skills and capacity until it expires.
-- ARGV: prefix, JID, name, skills (comma list), maxChats, levels ("skill:level" comma list),
--       voice ('1': takes calls), chats during calls ('1': a call does not take the whole seat)
local jid = ARGV[2]
local agent = K.agent(jid)
local before = rcall('HGET', agent, 'skills') or ''
local phone = ARGV[7] == '1' and rcall('HGET', agent, 'phone') == '1'
local day = rcall('HMGET', K.agentDay(jid), 'skills', 'maxChats')
rcall('HSET', agent, 'jid', jid, 'name', ARGV[3], 'skills', withVoice(day[1] or ARGV[4], phone), 'maxChats', day[2] or ARGV[5], 'levels', ARGV[6],
  'voice', ARGV[7], 'chatsInCall', ARGV[8], 'phone', phone and '1' or '0')
rcall('HSETNX', agent, 'calls', 0)
rcall('HSETNX', agent, 'state', 'offline')
rcall('HSETNX', agent, 'active', 0)
rcall('HSETNX', agent, 'freeSince', 0)
rcall('HSETNX', agent, 'wrapUntil', 0)
rcall('HSETNX', agent, 'missed', 0)
rcall('HSETNX', agent, 'lastAssigned', 0)
rcall('SADD', K.agents(), jid)
reseat(jid, before)
return 1
