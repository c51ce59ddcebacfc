-- Shared helpers, prepended to every script after the generated K.* key functions.
local rcall = redis.call

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

-- Keeps a session in its routing line exactly while it can be routed: queued, its customer present,
-- no offer standing. The line key must match lineKey() in cti/allocation.ts; the session remembers its
-- line, so a transfer to another queue leaves the old one.
local function reline(id)
  local key = K.session(id)
  local s = rcall('HMGET', key, 'state', 'queue', 'needs', 'priority', 'awaySince', 'ringing', 'seq', 'line')
  local want = ''
  if s[1] == 'queued' and (s[5] or '') == '' and (s[6] or '') == '' then
    want = s[2] .. '|' .. (s[3] or '') .. '|' .. (s[4] or '0')
  end
  local have = s[8] or ''
  if have == want then return end
  if have ~= '' then
    rcall('ZREM', K.line(have), id)
    if rcall('EXISTS', K.line(have)) == 0 then rcall('SREM', K.lines(), have) end
  end
  if want ~= '' then
    rcall('ZADD', K.line(want), s[7], id)
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

-- Keeps an agent in the seat sets of its skills and '*': f: while ready with room, o: while logged in.
-- The agent remembers what it is indexed as, so only a change touches the sets. `before`: skills it
-- had (a profile update), to leave their sets.
local function reseat(jid, before)
  local agent = K.agent(jid)
  local a = rcall('HMGET', agent, 'state', 'active', 'maxChats', 'skills', 'indexed')
  if not a[1] then return end
  local free = a[1] == 'ready' and tonumber(a[2]) < tonumber(a[3])
  local want = free and 'free' or (a[1] ~= 'offline' and 'on' or 'off')
  if want == a[5] and not before then return end
  if before then
    for skill in string.gmatch(before, '[^,]+') do
      rcall('SREM', K.freeSeats(skill), jid)
      rcall('SREM', K.onSeats(skill), jid)
      rcall('SREM', K.allSeats(skill), jid)
    end
  end
  local wasOn = a[5] == 'free' or a[5] == 'on'
  for skill in string.gmatch('*,' .. (a[4] or ''), '[^,]+') do
    if free then rcall('SADD', K.freeSeats(skill), jid) else rcall('SREM', K.freeSeats(skill), jid) end
    if before or wasOn ~= (want ~= 'off') then
      if want ~= 'off' then rcall('SADD', K.onSeats(skill), jid) else rcall('SREM', K.onSeats(skill), jid) end
    end
    if before then rcall('SADD', K.allSeats(skill), jid) end
  end
  rcall('HSET', agent, 'indexed', want)
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
  if s.state == 'ended' or (onlyFrom and onlyFrom ~= '' and s.state ~= onlyFrom) then return false end
  if s.state == 'queued' then
    rcall('ZREM', K.queue(s.queue), id)
    rcall('ZREM', K.waiting(), id)
  else
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
