// Everything measured at one device count: bulk load, Redis memory, the check workloads
// against mqtt-authd (measure-checks.ts), the export, then the prefix is removed.
import type Redis from 'ioredis';
import { createKeys } from '../src/store/keys';
import { startAuthd } from './authd';
import { bulkLoad } from './bulk-load';
import { deviceName } from './devices';
import { measureExport } from './export-measure';
import type { HashBound } from './hash-bound';
import type { Ceiling } from './measure-ceiling';
import { deletePrefix, newPrefix, usedMemory } from './redis-prefix';
import type { CheckRow, PacedRow, SizeRow } from './report';
import type { Settings } from './settings';
import { measureChecks } from './measure-checks';

export interface SizeContext {
  settings: Settings;
  redis: Redis;
  hashes: readonly string[];
  hash: HashBound;
  redisPid: number;
  retryBudget: { seconds: number };
  ceiling: Ceiling;
  warnings: string[];
  /** Prefixes holding data: removed on the way out, even after a failure. */
  prefixes: Set<string>;
}

export interface SizeFigures {
  checks: CheckRow[];
  paced: PacedRow[];
  size: SizeRow;
}

async function exportAndClean(n: number, prefix: string, c: SizeContext) {
  const exported = await measureExport(c.settings.redisUrl, prefix);
  console.log(
    `  export: ${exported.users} users in ${(exported.ms / 1000).toFixed(2)} s, peak RSS ${(exported.maxRssKiB / 1024).toFixed(0)} MiB`,
  );
  const started = performance.now();
  const removed = await deletePrefix(c.redis, prefix);
  c.prefixes.delete(prefix);
  console.log(
    `  removed ${removed} keys in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return exported;
}

export async function measureSize(n: number, c: SizeContext): Promise<SizeFigures> {
  const prefix = newPrefix();
  const keys = createKeys(prefix);
  c.prefixes.add(prefix);
  const before = await usedMemory(c.redis);
  console.log(`\n${n.toLocaleString('en-US')} devices under ${prefix}`);
  const load = await bulkLoad(c.settings.redisUrl, keys, n, c.hashes);
  const after = await usedMemory(c.redis);
  const encoding = String(await c.redis.object('ENCODING', keys.user(deviceName(0))));
  console.log(
    `  loaded in ${(load.ms / 1000).toFixed(1)} s; Redis +${((after - before) / 2 ** 20).toFixed(1)} MiB, ${Math.round((after - before) / n)} B/device, user hash ${encoding}`,
  );
  const authd = await startAuthd(c.redis, c.settings.redisUrl, keys, c.settings.cpuProfDir);
  let figures: Pick<SizeFigures, 'checks' | 'paced'>;
  try {
    figures = await measureChecks(authd, n, c);
  } catch (err) {
    console.error(`mqtt-authd output:\n${authd.child.logs().slice(-5000)}`);
    throw err;
  } finally {
    await authd.child.stop();
  }
  const exported = await exportAndClean(n, prefix, c);
  return {
    ...figures,
    size: {
      devices: n,
      loadMs: load.ms,
      bytesPerDevice: (after - before) / n,
      encoding,
      exported,
    },
  };
}
