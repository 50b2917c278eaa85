// What the store holds, read straight from Redis for the scenarios' assertions.
import type { RedisClient } from '../../src/store/redis-client';
import { BUCKETS, type Keys } from '../../src/store/keys';

/** Every username in the index (all buckets), sorted. */
export async function allIndexed(redis: RedisClient, keys: Keys): Promise<string[]> {
  const parts = await Promise.all(
    Array.from({ length: BUCKETS }, (_, b) => redis.zrange(keys.index(b), 0, -1)),
  );
  return parts.flat().sort();
}
