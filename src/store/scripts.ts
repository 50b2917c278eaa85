// Lua scripts for atomic multi-key writes. Each returns {code, …}; toError() maps codes.
import { conflict, damagedRecord, notFound } from '../errors';

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter
 * ARGV[1] mode: create | update | upsert   ARGV[2] events channel   ARGV[3] username
 * ARGV[4] n = number of [field, value] pairs always written (HSET)
 * ARGV[5] revoking fields, space separated: if one of them changes value, the event is
 *         `x:<name>` (sessions end) rather than `u:<name>`
 * ARGV[6 .. 5+2n] those pairs; the rest: pairs written only where absent (HSETNX)
 * Returns {'OK', revision, old HGETALL} | {'EXISTS'} | {'NOT_FOUND'} | {'WRONGTYPE'}
 */
export const WRITE_USER = `
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'hash' and t ~= 'none' then return {'WRONGTYPE'} end
local exists = t == 'hash'
if ARGV[1] == 'create' and exists then return {'EXISTS'} end
if ARGV[1] == 'update' and not exists then return {'NOT_FOUND'} end
local old = redis.call('HGETALL', KEYS[1])
local n = tonumber(ARGV[4])
local last = 5 + 2 * n
local event = 'u:'
if exists then
  local revoking = {}
  for f in string.gmatch(ARGV[5], '%S+') do revoking[f] = true end
  for i = 6, last, 2 do
    if revoking[ARGV[i]] and redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then event = 'x:' end
  end
end
for i = 6, last, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], event .. ARGV[3])
return {'OK', rev, old}
`;

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter
 * ARGV[1] events channel   ARGV[2] username   (the event is `x:<name>`: its sessions end)
 * Returns {'OK', revision, old HGETALL} | {'NOT_FOUND'}
 */
export const DELETE_USER = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {'NOT_FOUND'} end
-- A key of another type (damaged) is deleted all the same: that is how an admin repairs it.
local old = {}
if t == 'hash' then old = redis.call('HGETALL', KEYS[1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[1], 'x:' .. ARGV[2])
return {'OK', rev, old}
`;

/**
 * KEYS[1] common acl string   KEYS[2] revision counter
 * ARGV[1] events channel   ARGV[2] new JSON
 * Returns {'OK', revision, old JSON or ''}
 */
export const SET_COMMON = `
-- SET replaces a key of any type: a damaged common-rules key is repaired by writing it.
local old = ''
if redis.call('TYPE', KEYS[1]).ok == 'string' then old = redis.call('GET', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2])
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], 'common')
return {'OK', rev, old}
`;

/**
 * Compare-and-set of a user's hash: the upgrade at login writes only over the hash it verified,
 * so a rotation (or delete, or re-import) between the verification and this write wins. Same
 * password, new hash: `u:<name>`, the device that just logged in keeps its session.
 * KEYS[1] user hash   KEYS[2] revision counter
 * ARGV[1] events channel   ARGV[2] username   ARGV[3] expected hash   ARGV[4] new hash
 * ARGV[5] updatedAt
 * Returns {'OK', revision} | {'CHANGED'}
 */
export const REPLACE_HASH = `
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[3] then return {'CHANGED'} end
redis.call('HSET', KEYS[1], 'hash', ARGV[4], 'updatedAt', ARGV[5])
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], 'u:' .. ARGV[2])
return {'OK', rev}
`;

export type ScriptReply = [string, number?, unknown?];

export function toError(code: string, what: string): Error {
  if (code === 'EXISTS') return conflict(`${what} already exists`);
  if (code === 'NOT_FOUND') return notFound(`${what} not found`);
  if (code === 'WRONGTYPE')
    return damagedRecord(`${what}: its Redis key holds another type than a hash; delete it first`);
  return new Error(`unexpected script reply ${code}`);
}
