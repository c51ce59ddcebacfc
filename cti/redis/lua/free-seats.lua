-- The free seats (ready with room; wrap-up not checked) that have every skill given, in allocation's
-- default order (keys.ts freeSeats), at most `limit` of them (0: all). It walks the smallest of the sets
-- in order and checks the others, so a join that wants a few seats reads a few, not every free agent.
-- ARGV: prefix, limit, skills ('*' when none)
local limit = tonumber(ARGV[2])
local keys, first, smallest = {}, 1, nil
for i = 3, #ARGV do
  keys[#keys + 1] = K.freeSeats(ARGV[i])
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
return out
