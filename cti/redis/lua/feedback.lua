-- Records the customer's rating of an ended session, once.
-- ARGV: prefix, session id, score (1-5), comment, now
-- Returns: 'ok' | 'unknown' | 'not-ended' | 'already'
local id, score, comment, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = K.session(id)
local s = rcall('HMGET', key, 'state', 'feedbackScore')
if not s[1] then return 'unknown' end
if s[1] ~= 'ended' then return 'not-ended' end
if s[2] then return 'already' end
rcall('HSET', key, 'feedbackScore', score, 'feedbackComment', comment, 'feedbackAt', now)
emit('feedback', { session = id, score = score, comment = comment, at = now })
return 'ok'
