-- The waiting customers of one queue who are to hear their queue status now, with their positions
-- (positionOf). Each customer has its next status in the queue's statusDue schedule: half a second after
-- the join, then every status interval. When positions move (someone ahead left or came in: includes.lua
-- relevel), a pass (at most one a second per queue, across instances) brings the next status of each
-- customer behind forward, to a second from now at the front of the queue and later further back (10 ms
-- per place ahead; those further back than the interval's worth keep their periodic status): nobody hears
-- twice within a second, and a long queue's movement costs a bounded number of stanzas and reads. It reads only those customers, never the whole queue (but
-- for a queue with several priorities, whose changes move everyone, at most once a second).
-- ARGV: prefix, queue, now, status interval (ms), aging (ms per priority step), at most this many
-- Returns: flat {id, customer, plain, position, ...}
local queue, now, interval, aging, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local sd, M = K.statusDue(queue), K.moved()
-- Returns false once the customer is so far back that its periodic status comes first anyway.
local function bringForward(id)
  local position = positionOf(id, now, aging)
  if not position then return true end
  if position * 10 >= interval then return false end
  rcall('ZADD', sd, 'XX', 'LT', now + math.max(1000, position * 10), id)
  return true
end
local from = tonumber(rcall('HGET', M, queue))
if from and now - (tonumber(rcall('HGET', M, queue .. ':at')) or 0) >= 1000 then
  rcall('HDEL', M, queue)
  local levels = rcall('SMEMBERS', K.levels(queue))
  if from > 0 and #levels == 1 then
    -- One priority: those who arrived after the one who left, `limit` at a time (the rest in the next pass).
    -- Positions grow along the level, so the pass stops at the first one too far back to bring forward.
    local ids = rcall('ZRANGEBYSCORE', K.level(queue .. '|' .. levels[1]), from, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
    local far = false
    for i = 1, #ids, 2 do
      if not bringForward(ids[i]) then far = true; break end
    end
    if #ids == 2 * limit and not far then moved(queue, tonumber(ids[#ids])) else rcall('HSET', M, queue .. ':at', now) end
  else
    for _, p in ipairs(levels) do
      for _, id in ipairs(rcall('ZRANGE', K.level(queue .. '|' .. p), 0, -1)) do bringForward(id) end
    end
    rcall('HSET', M, queue .. ':at', now)
  end
end
local out = {}
for _, id in ipairs(rcall('ZRANGEBYSCORE', sd, '-inf', now, 'LIMIT', 0, limit)) do
  local position = positionOf(id, now, aging)
  if position then
    rcall('ZADD', sd, now + interval, id)
    local s = rcall('HMGET', K.session(id), 'customer', 'plain')
    table.insert(out, id); table.insert(out, s[1]); table.insert(out, s[2]); table.insert(out, position)
  else
    rcall('ZREM', sd, id) -- not waiting any more (relevel removes it; this is only a safety net)
  end
end
return out
