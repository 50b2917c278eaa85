// The one atomic write of presence: a broker's batch, in its own slot (keys.ts, presence).

/**
 * KEYS[1] index zset (`<username>\0<clientid>`)   KEYS[2] sessions hash (clientid →
 *         `<username>\0<json>`)   KEYS[3] meta hash
 * ARGV[1] boot   ARGV[2] seq   ARGV[3] full: 1 | 0   ARGV[4] ttl ms   ARGV[5] heartbeatMs
 * ARGV[6] counters JSON ('' : unchanged)   ARGV[7] now ms   ARGV[8] n connected
 * ARGV[9 .. 8+3n] connected: clientid, member, value; the rest: disconnected clientid, member
 * Returns {'OK'} | {'DUPLICATE'} | {'NEED_FULL'}
 */
export const REPORT_SESSIONS = `
local ix, s, meta = KEYS[1], KEYS[2], KEYS[3]
local ttl = tonumber(ARGV[4])
local seq = tonumber(ARGV[2])
local function keep()
  for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ttl) end
end
if ARGV[3] == '1' then
  redis.call('DEL', ix, s)
else
  local m = redis.call('HMGET', meta, 'boot', 'seq')
  if m[1] ~= ARGV[1] or not m[2] then return {'NEED_FULL'} end
  local last = tonumber(m[2])
  if seq == last then keep() return {'DUPLICATE'} end
  if seq ~= last + 1 then return {'NEED_FULL'} end
end
local function owner(v)
  if not v then return nil end
  return string.sub(v, 1, string.find(v, '\\0', 1, true) - 1)
end
local n = tonumber(ARGV[8])
local last = 8 + 3 * n
for i = 9, last, 3 do
  local old = redis.call('HGET', s, ARGV[i])
  if old then
    local was = owner(old) .. '\\0' .. ARGV[i]
    if was ~= ARGV[i + 1] then redis.call('ZREM', ix, was) end
  end
  redis.call('HSET', s, ARGV[i], ARGV[i + 2])
  redis.call('ZADD', ix, 0, ARGV[i + 1])
end
local gone = 0
for i = last + 1, #ARGV, 2 do
  local old = redis.call('HGET', s, ARGV[i])
  -- Only the session of that user: a newer one that took the client id over stays.
  if old and owner(old) .. '\\0' .. ARGV[i] == ARGV[i + 1] then
    redis.call('HDEL', s, ARGV[i])
    redis.call('ZREM', ix, ARGV[i + 1])
    gone = gone + 1
  end
end
redis.call('HSET', meta, 'boot', ARGV[1], 'seq', ARGV[2], 'heartbeatMs', ARGV[5], 'seenAt', ARGV[7])
if ARGV[6] ~= '' then redis.call('HSET', meta, 'counters', ARGV[6]) end
if n > 0 and ARGV[3] ~= '1' then redis.call('HINCRBY', meta, 'connects', n) end
if gone > 0 then redis.call('HINCRBY', meta, 'disconnects', gone) end
keep()
return {'OK'}
`;
