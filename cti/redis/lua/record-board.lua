-- Records a whiteboard stanza between a session's customer and its seat (docs/protocol.md, "Whiteboard"):
-- one `board` event in the log, for the recorder. The operations come checked (protocol/board.ts) as JSON.
-- ARGV: prefix, session id, seat, sender, direction, operations (JSON array), at
-- Returns: 1, or 0 when the session does not exist (as record-message.lua).
local id, seat, sender, direction, ops, at = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if rcall('EXISTS', K.session(id)) == 0 then return 0 end
emit('board', { session = id, seat = seat, sender = sender, direction = direction, ops = cjson.decode(ops), at = at })
return 1
