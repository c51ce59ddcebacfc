-- A supervisor changes an agent's skills and/or capacity for the rest of the day (issue 13). The change is
-- also kept in a key of its own that expires at the end of the day: a component (re)starting in between
-- applies it over the configured profile (upsert-agent.lua), and the first profile sync after it expired
-- brings the configured one back.
-- ARGV: prefix, JID, skills given ('1'|'0'), skills (comma list), maxChats ('' keeps it), until (ms)
-- Returns: 'ok' | 'unknown'
local jid, skills, maxChats, untilMs = ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local agent = K.agent(jid)
local before = rcall('HGET', agent, 'skills')
if not before then return 'unknown' end
local day = K.agentDay(jid)
if ARGV[3] == '1' then
  -- The phone's '~voice' skill follows registrations, not supervisors: it is kept as it is.
  local phone = string.find(',' .. before .. ',', ',~voice,', 1, true) ~= nil
  rcall('HSET', agent, 'skills', withVoice(skills, phone))
  rcall('HSET', day, 'skills', skills)
end
if maxChats ~= '' then
  rcall('HSET', agent, 'maxChats', maxChats)
  rcall('HSET', day, 'maxChats', maxChats)
end
rcall('PEXPIREAT', day, untilMs)
if ARGV[3] == '1' then reseat(jid, before) else reseat(jid) end
return 'ok'
