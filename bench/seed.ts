// The bench's device population, written straight into the store layout (bench/run.ts and
// bench/hot-path.ts share it).
import Redis from 'ioredis';
import type { Keys } from '../src/store/keys';
import { encodeFields } from '../src/store/records';
import * as w from './workloads';

/** Devices 0 … n-1 straight into the store layout with ioredis pipelines (not the API: one
 *  Lua script and one PBKDF2 each); devices share 16 precomputed hashes. */
export async function bulkLoad(
  redisUrl: string,
  keys: Keys,
  n: number,
  hashes: string[],
): Promise<number> {
  const started = performance.now();
  const redis = new Redis(redisUrl);
  const now = new Date().toISOString();
  const same = { disabled: false, clientIds: [], metadata: {}, createdAt: now, updatedAt: now };
  try {
    await redis.set(keys.commonAcl, JSON.stringify(w.COMMON_RULES));
    for (let from = 0; from < n; from += 5000) {
      const pipe = redis.pipeline();
      const names = new Map<number, string[]>();
      for (let i = from; i < Math.min(n, from + 5000); i++) {
        const name = w.deviceName(i);
        const hash = hashes[i % w.PASSWORD_COUNT] as string;
        const own = { hash, superuser: w.isSuperuser(i), acl: w.ownRules(name) };
        pipe.hset(keys.user(name), ...encodeFields({ ...own, ...same }));
        const b = keys.bucketOf(name);
        names.set(b, [...(names.get(b) ?? []), '0', name]);
      }
      for (const [b, members] of names) pipe.zadd(keys.index(b), ...members);
      for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
    }
  } finally {
    redis.disconnect();
  }
  return performance.now() - started;
}
