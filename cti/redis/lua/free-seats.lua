-- The free seats that have every skill given, at most `limit` of them (0: all): freeSeats in includes.lua.
-- ARGV: prefix, limit, skills ('*' when none)
return (freeSeats(tonumber(ARGV[2]), { unpack(ARGV, 3) }))
