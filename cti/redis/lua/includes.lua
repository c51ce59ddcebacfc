-- Shared helpers, in the function library after the generated K.* key functions (library.ts). rcall is
-- redis.call, set by each function as it starts: the library's load may not touch redis.call.

-- A flat HGETALL reply as a table.
local function toMap(flat)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end

-- Appends an event to the log in the same atomic step as the change it describes. No MAXLEN: the log is
-- trimmed only past what every reader has acknowledged (events.ts trimEventLog), so the recorder loses none.
local function emit(eventType, fields)
  rcall('XADD', K.events(), '*', 'type', eventType, 'data', cjson.encode(fields))
end

-- Keeps a session in the deadline set at its next deadline, or out of it: the sweep (due.lua) then reads
-- only what is due, not every live session. The rules mirror expireOne() in cti/cti.ts: a queued
-- customer's maxWaitSeconds and standing offer; a chat's assignTimeout (until in service) and
-- firstResponseTimeout (until answered). The limits come with the session (enqueue.lua, transfer.lua).
-- The session fields the indexes below are kept from, read once per transition (indexed(id)).
local INDEXED = { 'state', 'queue', 'needs', 'priority', 'awaySince', 'ringing', 'seq', 'line', 'level', 'media', 'queuedAt',
  'waitMs', 'ringUntil', 'assignedAt', 'assignMs', 'answerMs', 'answeredAt', 'seat' }
local function indexed(id)
  local values = rcall('HMGET', K.session(id), unpack(INDEXED))
  local s = {}
  for i, name in ipairs(INDEXED) do s[name] = values[i] or nil end
  return s
end

local function redue(id, s)
  s = s or indexed(id)
  local at = nil
  local function consider(t) if t and (not at or t < at) then at = t end end
  local chat = s.media ~= 'voice'
  if s.state == 'queued' then
    local wait = tonumber(s.waitMs) or 0
    if wait > 0 then consider(tonumber(s.queuedAt) + wait) end
    if chat then consider(tonumber(s.ringUntil)) end
  elseif chat and (s.state == 'assigned' or s.state == 'in-service') and (s.seat or '') ~= '' then
    local assigned = tonumber(s.assignedAt)
    local assign, answer = tonumber(s.assignMs) or 0, tonumber(s.answerMs) or 0
    if assigned and s.state == 'assigned' and assign > 0 then consider(assigned + assign) end
    if assigned and answer > 0 and (s.answeredAt or '') == '' then consider(assigned + answer) end
  end
  if at then rcall('ZADD', K.due(), at, id) else rcall('ZREM', K.due(), id) end
end

-- Marks a queue's positions as changed behind `queuedAt` (the lowest such time since the last status pass;
-- 0: everyone may have moved), for status.lua.
local function moved(queue, queuedAt)
  local was = tonumber(rcall('HGET', K.moved(), queue))
  if not was or queuedAt < was then rcall('HSET', K.moved(), queue, queuedAt) end
end

-- Keeps a waiting session in its queue's priority level (positions: status.lua) and the queue's status
-- schedule, exactly while it is queued (away or offered ones too: they keep their place). The session
-- remembers its level. Someone leaving moves those behind; someone joining ahead (a higher priority,
-- or a requeue to the head) moves those behind it too; a plain arrival at the end moves nobody.
local function relevel(id, s)
  local key = K.session(id)
  local want = s.state == 'queued' and (s.queue .. '|' .. (s.priority or '0')) or ''
  local have = s.level or ''
  if have == want then return end
  local queuedAt = tonumber(s.queuedAt) or 0
  if have ~= '' then
    local queue, priority = string.match(have, '^(.*)|([^|]*)$')
    local single = rcall('SCARD', K.levels(queue)) == 1 -- with one priority, only those who came after move
    rcall('ZREM', K.level(have), id)
    rcall('ZREM', K.statusDue(queue), id)
    if rcall('EXISTS', K.level(have)) == 0 then rcall('SREM', K.levels(queue), priority) end
    moved(queue, single and queuedAt or 0)
  end
  if want ~= '' then
    local queue, priority = s.queue, s.priority or '0'
    local levels = rcall('SMEMBERS', K.levels(queue))
    local behind = rcall('ZCOUNT', K.level(want), '(' .. queuedAt, '+inf') > 0
    local others = #levels > 1 or (#levels == 1 and levels[1] ~= priority)
    rcall('ZADD', K.level(want), queuedAt, id)
    rcall('SADD', K.levels(queue), priority)
    rcall('ZADD', K.statusDue(queue), 'NX', queuedAt + 500, id) -- the first status half a second after the join
    if others then moved(queue, 0) elseif behind then moved(queue, queuedAt) end
  end
  rcall('HSET', key, 'level', want)
end

-- How many wait in a queue: the sizes of its priority levels.
local function waitingIn(queue)
  local n = 0
  for _, p in ipairs(rcall('SMEMBERS', K.levels(queue))) do n = n + rcall('ZCARD', K.level(queue .. '|' .. p)) end
  return n
end

-- Keeps a session in its routing line exactly while it can be routed: queued, its customer present,
-- no offer standing. The line key must match lineKey() in cti/allocation.ts; the session remembers its
-- line, so a transfer to another queue leaves the old one. It keeps the session's priority level and
-- deadline too (relevel, redue): every script that changes a session calls it.
local function reline(id)
  local s = indexed(id)
  relevel(id, s)
  redue(id, s)
  local key = K.session(id)
  local want = ''
  if s.state == 'queued' and (s.awaySince or '') == '' and (s.ringing or '') == '' then
    want = s.queue .. '|' .. (s.needs or '') .. '|' .. (s.priority or '0')
  end
  local have = s.line or ''
  if have == want then return end
  if have ~= '' then
    rcall('ZREM', K.line(have), id)
    if rcall('EXISTS', K.line(have)) == 0 then rcall('SREM', K.lines(), have) end
  end
  if want ~= '' then
    rcall('ZADD', K.line(want), s.seq, id)
    rcall('SADD', K.lines(), want)
  end
  rcall('HSET', key, 'line', want)
end

-- An agent's skills with or without the voice skill (cti/policy.ts VOICE_SKILL): an agent that takes
-- calls has it while one of its phones is registered, so calls are routed through the same seat sets.
local function withVoice(skills, on)
  local list = {}
  for skill in string.gmatch(skills, '[^,]+') do
    if skill ~= '~voice' then table.insert(list, skill) end
  end
  if on then table.insert(list, '~voice') end
  return table.concat(list, ',')
end

-- Keeps an agent in the seat sets of its skills and '*': fs: while ready with room (scored by the default
-- allocation order, so kept up to date on every change of its load or freeSince), o: while logged in.
-- The agent remembers what it is indexed as, so only a change touches the other sets. `before`: skills it
-- had (a profile update), to leave their sets.
local function reseat(jid, before)
  local agent = K.agent(jid)
  local a = rcall('HMGET', agent, 'state', 'active', 'maxChats', 'skills', 'indexed', 'freeSince')
  if not a[1] then return end
  local free = a[1] == 'ready' and tonumber(a[2]) < tonumber(a[3])
  local want = free and 'free' or (a[1] ~= 'offline' and 'on' or 'off')
  if want == a[5] and not before and not free then return end
  if before then
    for skill in string.gmatch(before, '[^,]+') do
      rcall('ZREM', K.freeSeats(skill), jid)
      rcall('SREM', K.onSeats(skill), jid)
      rcall('SREM', K.allSeats(skill), jid)
    end
  end
  local wasOn = a[5] == 'free' or a[5] == 'on'
  local score = tonumber(a[2]) * 1e13 + (tonumber(a[6]) or 0)
  for skill in string.gmatch('*,' .. (a[4] or ''), '[^,]+') do
    if free then rcall('ZADD', K.freeSeats(skill), score, jid) else rcall('ZREM', K.freeSeats(skill), jid) end
    if before or wasOn ~= (want ~= 'off') then
      if want ~= 'off' then rcall('SADD', K.onSeats(skill), jid) else rcall('SREM', K.onSeats(skill), jid) end
    end
    if before then rcall('SADD', K.allSeats(skill), jid) end
  end
  if want ~= a[5] then rcall('HSET', agent, 'indexed', want) end
end

-- The free seats (ready with room; wrap-up not checked) that have every skill given, in allocation's
-- default order (keys.ts freeSeats), at most `limit` of them (0: all). It walks the smallest of the sets
-- in order and checks the others, so a join that wants a few seats reads a few, not every free agent.
-- Also returns the size of that smallest set: there are no more free seats with those skills.
local function freeSeats(limit, skills)
  local keys, first, smallest = {}, 1, nil
  for _, skill in ipairs(skills) do
    keys[#keys + 1] = K.freeSeats(skill)
    local n = rcall('ZCARD', keys[#keys])
    if not smallest or n < smallest then first, smallest = #keys, n end
  end
  local CHUNK = 32
  local out, from = {}, 0
  while from < smallest and (limit == 0 or #out < limit) do
    for _, jid in ipairs(rcall('ZRANGE', keys[first], from, from + CHUNK - 1)) do
      local all = true
      for i, key in ipairs(keys) do
        if i ~= first and not rcall('ZSCORE', key, jid) then all = false break end
      end
      if all then out[#out + 1] = jid end
      if #out == limit then break end
    end
    from = from + CHUNK
  end
  return out, smallest
end

-- The seat is not allocated before untilMs (wrap-up, or rest after a missed call); a longer rest stands.
local function restUntil(agent, untilMs)
  if untilMs > (tonumber(rcall('HGET', agent, 'wrapUntil')) or 0) then rcall('HSET', agent, 'wrapUntil', untilMs) end
end

-- Gives back what a session took of its seat (its weight; a call also its phone).
local function release(s)
  local agent = K.agent(s.seat)
  rcall('HINCRBY', agent, 'active', -(tonumber(s.weight or '1') or 1))
  if s.media == 'voice' then rcall('HINCRBY', agent, 'calls', -1) end
end

-- Ends a live session (only if it is in state `onlyFrom`, when given): leaves its queue or
-- frees its seat, updates the queue's handle time, and logs it. Returns the session as it
-- was (flat), or false.
local function endSession(id, reason, now, ttl, weight, onlyFrom)
  local key = K.session(id)
  local flat = rcall('HGETALL', key)
  if #flat == 0 then return false end
  local s = toMap(flat)
  s.seat, s.inServiceAt = s.seat or '', s.inServiceAt or '' -- not stored until they have a value (enqueue.lua)
  if s.state == 'ended' or (onlyFrom and onlyFrom ~= '' and s.state ~= onlyFrom) then return false end
  if s.state ~= 'queued' then
    local agent = K.agent(s.seat)
    release(s)
    rcall('HSET', agent, 'freeSince', now)
    local wrap = tonumber(s.wrapUpMs or '0') or 0
    if wrap > 0 and reason ~= 'seat-offline' then restUntil(agent, tonumber(now) + wrap) end
    rcall('SREM', K.agentSessions(s.seat), id)
    reseat(s.seat)
  end
  if s.inServiceAt ~= '' and s.seat ~= '' then
    rcall('SET', K.lastSeat(string.match(s.customer, '^[^/]+')), s.seat, 'EX', 30 * 86400)
  end
  if s.inServiceAt ~= '' then
    local seconds = (tonumber(now) - tonumber(s.inServiceAt)) / 1000
    local previous = tonumber(rcall('HGET', K.handle(), s.queue))
    local average = previous and (previous * (1 - weight) + seconds * weight) or seconds
    rcall('HSET', K.handle(), s.queue, tostring(average))
  end
  rcall('HSET', key, 'state', 'ended', 'endedAt', now, 'endReason', reason)
  reline(id)
  rcall('PEXPIRE', key, ttl)
  if rcall('GET', K.customer(s.customer)) == id then rcall('DEL', K.customer(s.customer)) end
  if (s.handle or '') ~= '' then rcall('PEXPIRE', K.callHandle(s.handle), ttl) end
  if (s.callHandle or '') ~= '' then rcall('PEXPIRE', K.callHandle(s.callHandle), ttl) end
  rcall('SREM', K.live(), id)
  rcall('ZREM', K.away(), id)
  rcall('ZADD', K.ended(), now, id)
  rcall('ZREMRANGEBYSCORE', K.ended(), '-inf', tonumber(now) - ttl)
  emit('ended', { session = id, queue = s.queue, customer = s.customer, seat = s.seat, plain = s.plain,
    from = s.state, reason = reason, rang = s.state == 'queued' and (s.ringing or '') or '', media = s.media or 'chat',
    handle = s.handle or '', call = s.callHandle or '', at = now })
  return flat
end

-- A waiting session's position in its queue: how many are routed before it (cti/allocation.ts
-- routingOrder: effective priority, priority plus one step per `aging` ms waited, then arrival). Its rank
-- in its own priority level, plus, in each other level of the queue, those whose effective priority
-- beats its own: within a level that is everyone who arrived before a time, one ZCOUNT. O(levels x log n).
-- An offered customer is being routed: position 0 (XEP-0142). Returns nil when not waiting.
local function positionOf(id, now, aging)
  local s = rcall('HMGET', K.session(id), 'level', 'priority', 'queuedAt', 'ringing', 'queue')
  if (s[1] or '') == '' then return nil end
  if (s[4] or '') ~= '' then return 0 end
  local own, queuedAt = tonumber(s[2]) or 0, tonumber(s[3])
  local effective = own + math.floor(math.max(0, now - queuedAt) / aging)
  local ahead = rcall('ZRANK', K.level(s[1]), id) or 0
  for _, p in ipairs(rcall('SMEMBERS', K.levels(s[5]))) do
    local other = tonumber(p)
    if other ~= own then
      -- Ahead: a higher level once its effective priority is above ours; a lower one once it is equal
      -- (it then arrived before us). That is, those who joined at or before now - steps x aging.
      local steps = other > own and (effective - other + 1) or (effective - other)
      local level = K.level(s[5] .. '|' .. p)
      ahead = ahead + (steps <= 0 and rcall('ZCARD', level) or rcall('ZCOUNT', level, '-inf', now - steps * aging))
    end
  end
  return ahead
end

-- The allocated seat accepted the customer's first message (in-service.lua; a call's answer, answer-call.lua).
-- The caller then calls redue(id) (once for both, on a call's answer): its timeout no longer applies.
-- Returns: 'ok' | 'already' | 'unknown' | 'wrong-seat' | 'ended'
local function inService(id, seat, now)
  local key = K.session(id)
  local s = rcall('HMGET', key, 'state', 'seat', 'queue', 'customer')
  if not s[1] then return 'unknown' end
  if s[2] ~= seat then return 'wrong-seat' end
  if s[1] == 'ended' then return 'ended' end
  if s[1] == 'in-service' then return 'already' end
  rcall('HSET', key, 'state', 'in-service', 'inServiceAt', now)
  emit('in-service', { session = id, queue = s[3], customer = s[4], seat = seat, at = now })
  return 'ok'
end

-- The seat's first reply reached its customer (answered.lua; a call's answer, answer-call.lua): the
-- no-answer clock stops (the caller then calls redue(id)), the seat's misses reset.
-- Returns: 'ok' | 'already' | 'unknown' | 'wrong-seat' | 'ended'
local function answered(id, seat, now)
  local key = K.session(id)
  local s = rcall('HMGET', key, 'state', 'seat', 'answeredAt', 'queue', 'queuedAt')
  if not s[1] then return 'unknown' end
  if s[2] ~= seat then return 'wrong-seat' end
  if s[1] == 'ended' then return 'ended' end
  if s[3] and s[3] ~= '' then return 'already' end
  rcall('HSET', key, 'answeredAt', now)
  rcall('HSET', K.agent(seat), 'missed', 0)
  -- The queue and the join time ride along: metrics time the answer from the join without reading the session.
  emit('answered', { session = id, seat = seat, queue = s[4], queuedAt = tonumber(s[5]), at = now })
  return 'ok'
end
