-- Records a chat message between a session's customer and its seat (communication recording): one
-- `message` event in the log, for the recorder.
-- ARGV: prefix, session id, seat, sender, direction, body, at, file (JSON of protocol/files.ts SharedFile, or "")
-- Returns: 1, or 0 when the session does not exist (a message of an ended session is still recorded
-- while its hash is kept).
local id, seat, sender, direction, body, at = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if rcall('EXISTS', K.session(id)) == 0 then return 0 end
local event = { session = id, seat = seat, sender = sender, direction = direction, body = body, at = at }
if ARGV[8] and ARGV[8] ~= '' then event.file = cjson.decode(ARGV[8]) end
emit('message', event)
return 1
