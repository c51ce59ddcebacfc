-- Queues a new session unless the customer's full JID already has a live one.
-- ARGV: prefix, id, queue, customer, plain ('1'|'0'), needs (comma list), form (JSON), now, token,
--       wrap-up (ms) the seat gets after this session, max waiting in the queue (0: no limit),
--       priority, preferred seat ('' for none), media ('chat'|'voice'), handle (the adapter's handle for the
--       customer's connection, e.g. a call's Call-ID; '' for none), the queue's max wait, assign and answer
--       timeouts (ms; 0 for none: the deadline set, includes.lua redue); for an adapter that tells the
--       newcomer its place with its answer ('' otherwise: the status pass tells it half a second after the
--       join): aging (ms per priority step), when the status pass's next status is due (ms after now);
--       '1' to queue only if an agent with every needed skill is logged in (the join's staffing check);
--       how many free seats with its needs to read after queuing, for the join's routing (0: all, -1: none)
-- Returns: {1, id, position (-1 when not told), free seats, ahead, seats, outnumbered} when queued: ahead, when every
--          routable customer is in the newcomer's own routing line, is how many of them are ahead of it (else -1);
--          when fewer than the free seats read, those seats whole (flat HGETALL replies): it may take one at once;
--          outnumbered: 1 for a call with at least as many ahead as seats with its needs are free (a seat takes one
--          call at a time; a chat seat's room is its capacity, not read here), else 0.
--          {0, existing id} when the customer already has a live session,
--          {-1, ''} when the queue already has max waiting customers, {-2, ''} when nobody who could serve it is logged in.
local id, queue, customer, plain, needs, form, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local skills = {}
for skill in string.gmatch(needs ~= '' and needs or '*', '[^,]+') do table.insert(skills, skill) end
-- In the transition, not read before it: a join then costs one round trip when it finds nobody free.
if ARGV[21] == '1' then
  local sets = {}
  for i, skill in ipairs(skills) do sets[i] = K.onSeats(skill) end
  table.insert(sets, 'LIMIT'); table.insert(sets, 1)
  if rcall('SINTERCARD', #skills, unpack(sets)) == 0 then return { -2, '' } end
end
local existing = rcall('GET', K.customer(customer))
if existing then return { 0, existing } end
local maxWaiting = tonumber(ARGV[11])
if maxWaiting > 0 and waitingIn(queue) >= maxWaiting then return { -1, '' } end
local seq = rcall('INCR', K.seq())
-- Fields without a value yet (seat, assignedAt, answeredAt, ...) are left out rather than stored empty: a
-- waiting customer costs that much less memory (parseSession and the scripts read a missing field as empty).
local fields = { 'id', id, 'queue', queue, 'customer', customer, 'plain', plain, 'needs', needs, 'form', form, 'state', 'queued',
  'queuedAt', now, 'token', ARGV[9], 'wrapUpMs', ARGV[10], 'seq', seq, 'priority', ARGV[12], 'media', ARGV[14] }
for i, name in pairs({ [13] = 'preferredSeat', [15] = 'handle', [16] = 'waitMs', [17] = 'assignMs', [18] = 'answerMs' }) do
  if ARGV[i] ~= '' and ARGV[i] ~= '0' then table.insert(fields, name); table.insert(fields, ARGV[i]) end
end
rcall('HSET', K.session(id), unpack(fields))
rcall('SET', K.customer(customer), id)
if ARGV[15] ~= '' then rcall('SET', K.callHandle(ARGV[15]), id) end
rcall('SADD', K.live(), id)
reline(id)
emit('queued', { session = id, queue = queue, customer = customer, at = now })
local position = -1
if ARGV[20] ~= '' then
  rcall('ZADD', K.statusDue(queue), 'XX', now + tonumber(ARGV[20]), id)
  position = positionOf(id, tonumber(now), tonumber(ARGV[19]))
end
local limit = tonumber(ARGV[22])
local free, most = {}, 0
if limit >= 0 then free, most = freeSeats(limit, skills) end
-- The newcomer has the highest arrival number: everyone else in its line is ahead of it.
local ahead = rcall('SCARD', K.lines()) == 1 and rcall('ZCARD', K.line(rcall('HGET', K.session(id), 'line'))) - 1 or -1
local seats = {}
if ahead >= 0 and ahead < #free then
  for i, jid in ipairs(free) do seats[i] = rcall('HGETALL', K.agent(jid)) end
end
return { 1, id, position, free, ahead, seats, (ARGV[14] == 'voice' and ahead >= 0 and ahead >= most) and 1 or 0 }
