// Lua scripts for atomic multi-key writes. Each returns {code, …}; toError() maps codes.
// Every change script also appends its audit entry, in the same atomic step, to the audit
// stream of its own slot (see audit-script.ts): an acknowledged change always has its entry.
import { conflict, damagedRecord, notFound } from '../errors';
import { AUDIT_ARGS, AUDIT_LUA } from './audit-script';

const A = AUDIT_ARGS; // the first A ARGV of every change script are the audit entry's

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter   KEYS[4] audit stream
 * ARGV[1..A] audit entry (audit-script.ts)
 * ARGV[A+1] mode: create | update | upsert   ARGV[A+2] events channel   ARGV[A+3] username
 * ARGV[A+4] n = number of [field, value] pairs always written (HSET)
 * ARGV[A+5] revoking fields, space separated: if one of them changes value, the event is
 *           `x:<name>` (sessions end) rather than `u:<name>`
 * ARGV[A+6 .. A+5+2n] those pairs; the rest: pairs written only where absent (HSETNX)
 * Returns {'OK', revision, old HGETALL} | {'EXISTS'} | {'NOT_FOUND'} | {'WRONGTYPE'}
 */
export const WRITE_USER = `${AUDIT_LUA}
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'hash' and t ~= 'none' then return {'WRONGTYPE'} end
local exists = t == 'hash'
local mode = ARGV[${A + 1}]
if mode == 'create' and exists then return {'EXISTS'} end
if mode == 'update' and not exists then return {'NOT_FOUND'} end
local old = redis.call('HGETALL', KEYS[1])
local n = tonumber(ARGV[${A + 4}])
local last = ${A + 5} + 2 * n
local event = 'u:'
if exists then
  local revoking = {}
  for f in string.gmatch(ARGV[${A + 5}], '%S+') do revoking[f] = true end
  for i = ${A + 6}, last, 2 do
    if revoking[ARGV[i]] and redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then event = 'x:' end
  end
end
for i = ${A + 6}, last, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[2], 0, ARGV[${A + 3}])
local rev = redis.call('INCR', KEYS[3])
audit(KEYS[4], old, exists)
redis.call('PUBLISH', ARGV[${A + 2}], event .. ARGV[${A + 3}])
return {'OK', rev, old}
`;

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter   KEYS[4] audit stream
 * ARGV[1..A] audit entry   ARGV[A+1] events channel   ARGV[A+2] username
 * (the event is `x:<name>`: its sessions end)
 * Returns {'OK', revision, old HGETALL} | {'NOT_FOUND'}
 */
export const DELETE_USER = `${AUDIT_LUA}
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {'NOT_FOUND'} end
-- A key of another type (damaged) is deleted all the same: that is how an admin repairs it.
local old = {}
if t == 'hash' then old = redis.call('HGETALL', KEYS[1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[${A + 2}])
local rev = redis.call('INCR', KEYS[3])
audit(KEYS[4], old, true)
redis.call('PUBLISH', ARGV[${A + 1}], 'x:' .. ARGV[${A + 2}])
return {'OK', rev, old}
`;

/**
 * KEYS[1] common acl string   KEYS[2] revision counter   KEYS[3] audit stream
 * ARGV[1..A] audit entry   ARGV[A+1] events channel   ARGV[A+2] new JSON
 * Returns {'OK', revision, old JSON or ''}
 */
export const SET_COMMON = `${AUDIT_LUA}
-- SET replaces a key of any type: a damaged common-rules key is repaired by writing it.
local old = ''
if redis.call('TYPE', KEYS[1]).ok == 'string' then old = redis.call('GET', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[${A + 2}])
local rev = redis.call('INCR', KEYS[2])
audit(KEYS[3], {'rules', old}, old ~= '')
redis.call('PUBLISH', ARGV[${A + 1}], 'common')
return {'OK', rev, old}
`;

/**
 * Compare-and-set of a user's hash: the upgrade at login writes only over the hash it verified,
 * so a rotation (or delete, or re-import) between the verification and this write wins. Same
 * password, new hash: `u:<name>`, the device that just logged in keeps its session.
 * KEYS[1] user hash   KEYS[2] revision counter   KEYS[3] audit stream
 * ARGV[1..A] audit entry   ARGV[A+1] events channel   ARGV[A+2] username
 * ARGV[A+3] expected hash   ARGV[A+4] new hash   ARGV[A+5] updatedAt
 * Returns {'OK', revision} | {'CHANGED'}
 */
export const REPLACE_HASH = `${AUDIT_LUA}
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[${A + 3}] then return {'CHANGED'} end
redis.call('HSET', KEYS[1], 'hash', ARGV[${A + 4}], 'updatedAt', ARGV[${A + 5}])
local rev = redis.call('INCR', KEYS[2])
audit(KEYS[3], {}, true)
redis.call('PUBLISH', ARGV[${A + 1}], 'u:' .. ARGV[${A + 2}])
return {'OK', rev}
`;

/**
 * A write in a bucket's slot that changes nothing anyone reads: followed by WAIT, it tells
 * whether the replicas have everything written to that slot's primary before it.
 * KEYS[1] the bucket's ack key   ARGV[1] now (ms)
 */
export const TOUCH = `redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000) return {'OK'}`;

export type ScriptReply = [string, number?, unknown?];

export function toError(code: string, what: string): Error {
  if (code === 'EXISTS') return conflict(`${what} already exists`);
  if (code === 'NOT_FOUND') return notFound(`${what} not found`);
  if (code === 'WRONGTYPE')
    return damagedRecord(`${what}: its Redis key holds another type than a hash; delete it first`);
  return new Error(`unexpected script reply ${code}`);
}
