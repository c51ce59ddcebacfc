-- An expert joins or leaves a session (issue 15: the agent invites another agent or a supervisor into the
-- conversation). One expert per session, one session per expert: the session's hash keeps `expert` (its
-- bare JID) and `expertBy` (who invited it), and x:{jid} points from the expert to its session.
-- ARGV: prefix, session id, expert (bare JID), op ('join'|'leave'), by (who acts), note (join) or reason
--       (leave: 'left' | 'removed' | 'ended' | 'transferred'), now
-- Returns: join: 'ok' | 'unknown' | 'not-live' (not a chat with a seat now) | 'self' (the seat itself) |
--          'busy' (the session has an expert) | 'engaged' (the expert is in another session);
--          leave: 'ok' | 'unknown' | 'none' (not this session's expert; nothing changes)
local id, expert, op, by, words, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'seat', 'media', 'expert', 'customer', 'queue')
if not s[1] then return 'unknown' end
local current = s[4] or ''
if op == 'join' then
  if (s[1] ~= 'assigned' and s[1] ~= 'in-service') or s[3] ~= 'chat' or (s[2] or '') == '' then return 'not-live' end
  if s[2] == expert then return 'self' end
  if current ~= '' then return 'busy' end
  local other = rcall('GET', K.expertOf(expert))
  -- A pointer left to a session that has another expert now (or none) is stale: only a live claim counts.
  if other and other ~= id and rcall('HGET', K.session(other), 'expert') == expert then return 'engaged' end
  rcall('HSET', key, 'expert', expert, 'expertBy', by)
  rcall('SET', K.expertOf(expert), id)
  emit('expert-joined', { session = id, queue = s[6], seat = s[2], customer = s[5], expert = expert, by = by, note = words, at = tonumber(now) })
  return 'ok'
end
if current == '' or current ~= expert then return 'none' end
rcall('HSET', key, 'expert', '', 'expertBy', '')
if rcall('GET', K.expertOf(expert)) == id then rcall('DEL', K.expertOf(expert)) end
emit('expert-left', { session = id, queue = s[6], seat = s[2] or '', customer = s[5], expert = expert, by = by, reason = words, at = tonumber(now) })
return 'ok'
