-- Reads (changes nothing) the first routable sessions of routing lines, in one round trip.
-- ARGV: prefix, count per line, line keys...
-- Returns: the sessions as flat HGETALL replies (the caller orders them by their 'seq').
local count = tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV do
  for _, id in ipairs(rcall('ZRANGE', K.line(ARGV[i]), 0, count - 1)) do
    table.insert(out, rcall('HGETALL', K.session(id)))
  end
end
return out
