-- A supervisor's or admin's action, appended to the event log for the recorder's audit log (issue 13).
-- ARGV: prefix, actor, action, target, detail, at
emit('audit', { actor = ARGV[2], action = ARGV[3], target = ARGV[4], detail = ARGV[5], at = ARGV[6] })
return 1
