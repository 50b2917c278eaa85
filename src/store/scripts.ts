// Lua scripts for atomic multi-key writes. Each returns {code, …}; toError() maps codes.
// Every change script also appends its audit entry, in the same atomic step, to the audit
// stream of its own slot (see audit-script.ts): an acknowledged change always has its entry.
// And it appends the change to its slot's change log and announces it (change-log.ts), in the
// same step: a reader that resumes from the log misses nothing that was acknowledged.
import { conflict, damagedRecord, notFound } from '../errors';
import { AUDIT_ARGS, AUDIT_LUA } from './audit-script';

// The first A ARGV of every change script are the audit entry's; the next two the change
// log's (LOG_LUA); the script's own follow, from ARGV[L+1].
const A = AUDIT_ARGS;
export const LOG_ARGS = 2;
const L = A + LOG_ARGS;

/**
 * changelog(log stream, revision, kind u|x|c, username, channel): appends `<revision>-0` to the
 * slot's change log (MAXLEN = ARGV[A+1], exact) and publishes `2:<ARGV[A+2]>:<rev>:<kind>:<name>`.
 */
const LOG_LUA = `
local function changelog(stream, rev, kind, name, channel)
  local id = rev .. '-0'
  local r = redis.pcall('XADD', stream, 'MAXLEN', '=', ARGV[${A + 1}], id, 'k', kind, 'n', name)
  if type(r) == 'table' and r.err then
    -- The log is ahead of the counter (the counter was lost, not the log): start the log
    -- again. A reader resuming from before finds the gap and resets.
    redis.call('DEL', stream)
    redis.call('XADD', stream, 'MAXLEN', '=', ARGV[${A + 1}], id, 'k', kind, 'n', name)
  end
  redis.call('PUBLISH', channel, '2:' .. ARGV[${A + 2}] .. ':' .. rev .. ':' .. kind .. ':' .. name)
end
`;

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter   KEYS[4] audit stream
 * KEYS[5] change log
 * ARGV[1..A] audit entry (audit-script.ts)   ARGV[A+1..L] change log (LOG_LUA)
 * ARGV[L+1] mode: create | update | upsert   ARGV[L+2] events channel   ARGV[L+3] username
 * ARGV[L+4] n = number of [field, value] pairs always written (HSET)
 * ARGV[L+5] revoking fields, space separated: if one of them changes value, the change is
 *           `x` (sessions end) rather than `u`
 * ARGV[L+6 .. L+5+2n] those pairs; the rest: pairs written only where absent (HSETNX)
 * Returns {'OK', revision, old HGETALL} | {'EXISTS'} | {'NOT_FOUND'} | {'WRONGTYPE'}
 */
export const WRITE_USER = `${AUDIT_LUA}${LOG_LUA}
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'hash' and t ~= 'none' then return {'WRONGTYPE'} end
local exists = t == 'hash'
local mode = ARGV[${L + 1}]
if mode == 'create' and exists then return {'EXISTS'} end
if mode == 'update' and not exists then return {'NOT_FOUND'} end
local old = redis.call('HGETALL', KEYS[1])
local n = tonumber(ARGV[${L + 4}])
local last = ${L + 5} + 2 * n
local kind = 'u'
if exists then
  local revoking = {}
  for f in string.gmatch(ARGV[${L + 5}], '%S+') do revoking[f] = true end
  for i = ${L + 6}, last, 2 do
    if revoking[ARGV[i]] and redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then kind = 'x' end
  end
end
for i = ${L + 6}, last, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[2], 0, ARGV[${L + 3}])
local rev = redis.call('INCR', KEYS[3])
audit(KEYS[4], old, exists)
changelog(KEYS[5], rev, kind, ARGV[${L + 3}], ARGV[${L + 2}])
return {'OK', rev, old}
`;

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter   KEYS[4] audit stream
 * KEYS[5] change log
 * ARGV[1..A] audit entry   ARGV[A+1..L] change log   ARGV[L+1] events channel   ARGV[L+2] username
 * (the change is `x`: its sessions end)
 * Returns {'OK', revision, old HGETALL} | {'NOT_FOUND'}
 */
export const DELETE_USER = `${AUDIT_LUA}${LOG_LUA}
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {'NOT_FOUND'} end
-- A key of another type (damaged) is deleted all the same: that is how an admin repairs it.
local old = {}
if t == 'hash' then old = redis.call('HGETALL', KEYS[1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[${L + 2}])
local rev = redis.call('INCR', KEYS[3])
audit(KEYS[4], old, true)
changelog(KEYS[5], rev, 'x', ARGV[${L + 2}], ARGV[${L + 1}])
return {'OK', rev, old}
`;

/**
 * KEYS[1] common acl string   KEYS[2] revision counter   KEYS[3] audit stream
 * KEYS[4] change log
 * ARGV[1..A] audit entry   ARGV[A+1..L] change log   ARGV[L+1] events channel   ARGV[L+2] new JSON
 * Returns {'OK', revision, old JSON or ''}
 */
export const SET_COMMON = `${AUDIT_LUA}${LOG_LUA}
-- SET replaces a key of any type: a damaged common-rules key is repaired by writing it.
local old = ''
if redis.call('TYPE', KEYS[1]).ok == 'string' then old = redis.call('GET', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[${L + 2}])
local rev = redis.call('INCR', KEYS[2])
audit(KEYS[3], {'rules', old}, old ~= '')
changelog(KEYS[4], rev, 'c', '', ARGV[${L + 1}])
return {'OK', rev, old}
`;

/**
 * Compare-and-set of a user's hash: the upgrade at login writes only over the hash it verified,
 * so a rotation (or delete, or re-import) between the verification and this write wins. Same
 * password, new hash: a `u` change, the device that just logged in keeps its session.
 * KEYS[1] user hash   KEYS[2] revision counter   KEYS[3] audit stream   KEYS[4] change log
 * ARGV[1..A] audit entry   ARGV[A+1..L] change log   ARGV[L+1] events channel   ARGV[L+2] username
 * ARGV[L+3] expected hash   ARGV[L+4] new hash   ARGV[L+5] updatedAt
 * Returns {'OK', revision} | {'CHANGED'}
 */
export const REPLACE_HASH = `${AUDIT_LUA}${LOG_LUA}
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[${L + 3}] then return {'CHANGED'} end
redis.call('HSET', KEYS[1], 'hash', ARGV[${L + 4}], 'updatedAt', ARGV[${L + 5}])
local rev = redis.call('INCR', KEYS[2])
audit(KEYS[3], {}, true)
changelog(KEYS[4], rev, 'u', ARGV[${L + 2}], ARGV[${L + 1}])
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
