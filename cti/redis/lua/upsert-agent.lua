-- Adds or updates an agent's profile, keeping its state and sessions.
-- ARGV: prefix, JID, name, skills (comma list), maxChats, levels ("skill:level" comma list)
local jid = ARGV[2]
local agent = K.agent(jid)
local before = rcall('HGET', agent, 'skills') or ''
rcall('HSET', agent, 'jid', jid, 'name', ARGV[3], 'skills', ARGV[4], 'maxChats', ARGV[5], 'levels', ARGV[6])
rcall('HSETNX', agent, 'state', 'offline')
rcall('HSETNX', agent, 'active', 0)
rcall('HSETNX', agent, 'freeSince', 0)
rcall('HSETNX', agent, 'wrapUntil', 0)
rcall('HSETNX', agent, 'missed', 0)
rcall('HSETNX', agent, 'lastAssigned', 0)
rcall('SADD', K.agents(), jid)
reseat(jid, before)
return 1
