// `mqtt-authd migrate-store`: moves a store written before the bucketed layout (one global
// index, `user:{name}` hashes, one revision counter) into today's layout (see keys.ts).
// Idempotent and resumable: every step deletes what it has copied, so a second run (or a run
// after an interruption) finds only what is left. A user already present in the new layout
// was written by a newer service since, and is kept; the old copy is dropped.
import type { Keys } from './keys';
import type { RedisClient } from './redis-client';
import type { RedisCredentialStore } from './redis-credential-store';

export interface MigrateProgress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

export interface MigrateReport {
  copied: number;
  /** Present in both layouts: the new one was kept. */
  kept: number;
  /** In the old index without a hash (a half-finished delete): dropped. */
  dangling: number;
  commonAcl: 'copied' | 'kept' | 'none';
}

const BATCH = 200;

/** True while anything of the old layout is left: the service refuses to start on it. */
export async function legacyLayoutPresent(redis: RedisClient, keys: Keys): Promise<boolean> {
  const l = keys.legacy;
  const n = await Promise.all([l.index, l.commonAcl, l.revision].map((k) => redis.exists(k)));
  return n.some((x) => x > 0);
}

export async function migrateStore(
  redis: RedisClient,
  keys: Keys,
  store: RedisCredentialStore,
  progress?: MigrateProgress,
  batch = BATCH,
): Promise<MigrateReport> {
  const l = keys.legacy;
  const report: MigrateReport = { copied: 0, kept: 0, dangling: 0, commonAcl: 'none' };
  // The revision first: the new sum must not fall below what exporters have already seen.
  const oldRevision = Number((await redis.get(l.revision)) ?? 0);
  if (oldRevision > 0) await redis.incrby(keys.commonRevision, oldRevision);
  await redis.del(l.revision);

  const common = await redis.get(l.commonAcl);
  if (common !== null) {
    // Copied byte for byte (whatever it holds is read the same way in the new place).
    if ((await redis.set(keys.commonAcl, common, 'NX')) === 'OK') {
      await redis.incr(keys.commonRevision);
      await redis.publish(keys.events, 'common');
      report.commonAcl = 'copied';
    } else report.commonAcl = 'kept';
    await redis.del(l.commonAcl);
  }

  const total = await redis.zcard(l.index);
  progress?.start(total);
  let done = 0;
  for (;;) {
    // Always from the start: what is done has been removed from the old index.
    const names = await redis.zrangebylex(l.index, '-', '+', 'LIMIT', 0, batch);
    if (names.length === 0) break;
    await Promise.all(
      names.map(async (name) => {
        const fields = await redis.hgetall(l.user(name));
        if (Object.keys(fields).length === 0) report.dangling++;
        else if ((await store.copyIn(name, fields)) === 'created') report.copied++;
        else report.kept++;
        // Only after the copy is acknowledged (and confirmed by replicas, when required).
        await redis.del(l.user(name));
        await redis.zrem(l.index, name);
      }),
    );
    done += names.length;
    progress?.update(done);
  }
  progress?.stop();
  return report;
}
