-- Records a chat message between a session's customer and its seat (communication recording): one
-- `message` event in the log, for the recorder.
-- ARGV: prefix, session id, seat, sender, direction, body, at
-- Returns: 1, or 0 when the session does not exist (a message of an ended session is still recorded
-- while its hash is kept).
local id, seat, sender, direction, body, at = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if rcall('EXISTS', K.session(id)) == 0 then return 0 end
emit('message', { session = id, seat = seat, sender = sender, direction = direction, body = body, at = at })
return 1
