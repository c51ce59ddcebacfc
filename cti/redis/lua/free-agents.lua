-- Those of the agents named that are free seats now (in the free seats of '*': ready with room, see reseat in
-- includes.lua), as flat HGETALL replies. A routing pass's seats: under load most of those asked about were
-- taken again before the pass ran, and reading them only to drop them was most of its reply.
-- ARGV: prefix, agent JIDs
local out, free = {}, K.freeSeats('*')
for i = 2, #ARGV do
  if rcall('ZSCORE', free, ARGV[i]) then out[#out + 1] = rcall('HGETALL', K.agent(ARGV[i])) end
end
return out
