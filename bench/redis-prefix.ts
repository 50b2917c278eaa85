// The benchmark's own corner of a shared Redis: a random key prefix, measured and removed
// with SCAN + UNLINK (never KEYS, never FLUSHDB: other test runs use the same server).
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

export const newPrefix = (): string => `bench:${randomBytes(6).toString('hex')}:`;

/** Unlinks every key under `prefix`; returns how many. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

export async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? '?';
}

/** redis-server's pid (its CPU is part of the measurement when it runs on this host). */
export async function redisProcessId(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  return Number(/^process_id:(\d+)/m.exec(info)?.[1] ?? 0);
}
