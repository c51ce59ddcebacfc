-- Stores a message left for agents (the newest 1,000 are kept).
-- ARGV: prefix, message (JSON), id, queue, now
rcall('LPUSH', K.messages(), ARGV[2])
rcall('LTRIM', K.messages(), 0, 999)
emit('message-left', { id = ARGV[3], queue = ARGV[4], at = ARGV[5] })
return 1
