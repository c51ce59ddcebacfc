-- Shared helpers, prepended to every script after the generated K.* key functions.
local rcall = redis.call

-- A flat HGETALL reply as a table.
local function toMap(flat)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end

-- Appends an event to the log in the same atomic step as the change it describes.
local function emit(eventType, fields)
  rcall('XADD', K.events(), 'MAXLEN', '~', '100000', '*', 'type', eventType, 'data', cjson.encode(fields))
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
    rcall('HINCRBY', agent, 'active', -1)
    rcall('HSET', agent, 'freeSince', now)
    local wrap = tonumber(s.wrapUpMs or '0') or 0
    if wrap > 0 and reason ~= 'seat-offline' then
      local untilMs = tonumber(now) + wrap
      if untilMs > (tonumber(rcall('HGET', agent, 'wrapUntil')) or 0) then rcall('HSET', agent, 'wrapUntil', untilMs) end
    end
    rcall('SREM', K.agentSessions(s.seat), id)
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
  rcall('PEXPIRE', key, ttl)
  if rcall('GET', K.customer(s.customer)) == id then rcall('DEL', K.customer(s.customer)) end
  rcall('SREM', K.live(), id)
  rcall('ZREM', K.away(), id)
  rcall('ZADD', K.ended(), now, id)
  rcall('ZREMRANGEBYSCORE', K.ended(), '-inf', tonumber(now) - ttl)
  emit('ended', { session = id, queue = s.queue, customer = s.customer, seat = s.seat, plain = s.plain,
    from = s.state, reason = reason, rang = s.state == 'queued' and (s.ringing or '') or '', at = now })
  return flat
end
