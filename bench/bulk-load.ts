// Devices straight into the store layout with ioredis pipelines, 5,000 a round trip (not the
// API: one Lua script and one PBKDF2 each). Used by `npm run bench` (bench/run.ts) and the
// plugin bench's memory figures (bench/plugin-rss.ts).
import Redis from 'ioredis';
import type { AclRule } from '../src/domain/acl';
import type { Keys } from '../src/store/keys';
import { encodeFields } from '../src/store/records';

export interface BulkDevice {
  name: string;
  hash: string;
  superuser: boolean;
  acl: AclRule[];
}

/** Devices `device(0)` … `device(n - 1)` and the common rules; ms taken. */
export async function bulkLoad(
  redisUrl: string,
  keys: Keys,
  n: number,
  device: (i: number) => BulkDevice,
  commonRules: AclRule[],
): Promise<number> {
  const started = performance.now();
  const redis = new Redis(redisUrl);
  const now = new Date().toISOString();
  const same = { disabled: false, clientIds: [], metadata: {}, createdAt: now, updatedAt: now };
  try {
    await redis.set(keys.commonAcl, JSON.stringify(commonRules));
    for (let from = 0; from < n; from += 5000) {
      const pipe = redis.pipeline();
      const names = new Map<number, string[]>();
      for (let i = from; i < Math.min(n, from + 5000); i++) {
        const { name, ...own } = device(i);
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
