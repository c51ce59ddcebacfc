-- The waiting customers of one queue who are to hear their queue status now, with their positions
-- (positionOf): those whose position may have changed (someone ahead left or came in: includes.lua
-- relevel, at most one such pass a second per queue, across instances), and those whose periodic status is
-- due (the statusDue schedule). Nobody hears twice within a second: a customer told less than a second
-- ago is scheduled for a second after that instead. Reads only those customers, never the whole queue
-- (but for a queue with several priorities, whose changes move everyone, and at most once a second).
-- ARGV: prefix, queue, now, status interval (ms), aging (ms per priority step), at most this many
-- Returns: flat {id, customer, plain, position, ...}
local queue, now, interval, aging, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local sd, M = K.statusDue(queue), K.moved()
local picked, order = {}, {}
local function pick(id) if not picked[id] then picked[id] = true; table.insert(order, id) end end
local from = tonumber(rcall('HGET', M, queue))
if from and now - (tonumber(rcall('HGET', M, queue .. ':at')) or 0) >= 1000 then
  rcall('HDEL', M, queue)
  local levels = rcall('SMEMBERS', K.levels(queue))
  if from > 0 and #levels == 1 then
    -- One priority: those who arrived after the one who left, `limit` at a time (the rest next pass).
    local ids = rcall('ZRANGEBYSCORE', K.level(queue .. '|' .. levels[1]), from, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
    for i = 1, #ids, 2 do pick(ids[i]) end
    if #ids == 2 * limit then moved(queue, tonumber(ids[#ids])) else rcall('HSET', M, queue .. ':at', now) end
  else
    for _, p in ipairs(levels) do
      for _, id in ipairs(rcall('ZRANGE', K.level(queue .. '|' .. p), 0, -1)) do pick(id) end
    end
    rcall('HSET', M, queue .. ':at', now)
  end
end
for _, id in ipairs(rcall('ZRANGEBYSCORE', sd, '-inf', now, 'LIMIT', 0, limit)) do pick(id) end
local out = {}
for _, id in ipairs(order) do
  local last = (tonumber(rcall('ZSCORE', sd, id)) or now) - interval -- when it was last told (scheduled at that + interval)
  if now - last < 1000 then
    rcall('ZADD', sd, last + 1000, id)
  else
    local position = positionOf(id, now, aging)
    if position then
      rcall('ZADD', sd, now + interval, id)
      local s = rcall('HMGET', K.session(id), 'customer', 'plain')
      table.insert(out, id); table.insert(out, s[1]); table.insert(out, s[2]); table.insert(out, position)
    end
  end
end
return out
