// Lua scripts for atomic multi-key writes. Each returns {code, …}; toError() maps codes.
import { conflict, damagedRecord, notFound } from '../errors';

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter
 * ARGV[1] mode: create | update | upsert   ARGV[2] events channel   ARGV[3] username
 * ARGV[4] n = number of [field, value] pairs always written (HSET)
 * ARGV[5 .. 4+2n] those pairs; the rest: pairs written only where absent (HSETNX)
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
local last = 4 + 2 * n
for i = 5, last, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], 'u:' .. ARGV[3])
return {'OK', rev, old}
`;

/**
 * KEYS[1] user hash   KEYS[2] index zset   KEYS[3] revision counter
 * ARGV[1] events channel   ARGV[2] username
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
redis.call('PUBLISH', ARGV[1], 'u:' .. ARGV[2])
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

export type ScriptReply = [string, number?, unknown?];

export function toError(code: string, what: string): Error {
  if (code === 'EXISTS') return conflict(`${what} already exists`);
  if (code === 'NOT_FOUND') return notFound(`${what} not found`);
  if (code === 'WRONGTYPE')
    return damagedRecord(`${what}: its Redis key holds another type than a hash; delete it first`);
  return new Error(`unexpected script reply ${code}`);
}
