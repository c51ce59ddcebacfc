-- A component started with a configuration (issue 13: config changes are audited). Compares each item's
-- digest with those the last start recorded and appends one audit event per section that changed (items
-- added, changed, removed), then keeps the new digests. In one script, so two instances starting with the
-- same file audit the change once.
-- The detail names items (queue names, agents' JIDs), never values: a password or token is not repeated.
-- ARGV: prefix, at, then pairs of item ("section" or "section/name") and digest
-- Returns: the number of audit events appended
local at = ARGV[2]
local key = K.config()
local before = toMap(rcall('HGETALL', key))
local first = next(before) == nil
local now, sections, order = {}, {}, {}
local function note(item, what)
  local section, name = string.match(item, '^([^/]+)/(.+)$')
  section = section or item
  if not sections[section] then sections[section] = { added = {}, changed = {}, removed = {} }; table.insert(order, section) end
  if name then table.insert(sections[section][what], name) else sections[section].whole = true end
end
for i = 3, #ARGV, 2 do
  local item, digest = ARGV[i], ARGV[i + 1]
  now[item] = digest
  if before[item] == nil then note(item, 'added') elseif before[item] ~= digest then note(item, 'changed') end
end
for item in pairs(before) do if now[item] == nil then note(item, 'removed') end end
rcall('DEL', key)
for i = 3, #ARGV, 2 do rcall('HSET', key, ARGV[i], ARGV[i + 1]) end
if first then
  emit('audit', { actor = 'config', action = 'config-change', target = 'all', detail = 'first start with this Redis: the configuration is recorded', at = at })
  return 1
end
for _, section in ipairs(order) do
  local s, parts = sections[section], {}
  if s.whole then table.insert(parts, 'changed') end
  for _, what in ipairs({ 'added', 'changed', 'removed' }) do
    table.sort(s[what])
    if #s[what] > 0 then table.insert(parts, what .. ': ' .. table.concat(s[what], ', ')) end
  end
  emit('audit', { actor = 'config', action = 'config-change', target = section, detail = string.sub(table.concat(parts, '; '), 1, 500), at = at })
end
return #order
