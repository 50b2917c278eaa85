// The same checks on a Redis Cluster (3 primaries + 3 replicas on this host, started by the
// test harness) beside the standalone figures of the same run: what the cluster layout costs
// per check. Failover times are measured by test/store/*-failover.test.ts (see
// docs/high-availability.md), not here: a bench run on a shared host cannot time them better.
import { Cluster } from 'ioredis';
import { parseHostList } from '../src/config';
import { createKeys } from '../src/store/keys';
import { encodeFields } from '../src/store/records';
import { sleep } from '../test/support/http';
import { startCluster, startService } from '../test/support/processes';
import { peakRun, type RunSettings } from './checks';
import type { MeasureContext, RunResult } from './load';
import { peakLoad } from './load';
import type { CheckRow } from './report';
import * as w from './workloads';

export interface ClusterRow {
  workload: 'acl-json' | 'user-warm';
  devices: number;
  cluster: RunResult;
  standalone: RunResult | undefined;
}

async function load(seeds: string, prefix: string, n: number, hashes: string[]): Promise<void> {
  const keys = createKeys(prefix);
  const c = new Cluster(parseHostList(seeds), { redisOptions: { maxRetriesPerRequest: 1 } });
  c.on('error', () => undefined);
  const now = new Date().toISOString();
  const same = { disabled: false, clientIds: [], metadata: {}, createdAt: now, updatedAt: now };
  try {
    await c.set(keys.commonAcl, JSON.stringify(w.COMMON_RULES));
    // One pipeline per bucket: a cluster pipeline stays in one slot.
    const buckets = new Map<number, string[]>();
    for (let i = 0; i < n; i++) {
      const name = w.deviceName(i);
      const b = keys.bucketOf(name);
      buckets.set(b, [...(buckets.get(b) ?? []), name]);
    }
    for (const [b, names] of buckets) {
      const p = c.pipeline();
      for (const name of names) {
        const i = Number(name.replace(/\D/g, ''));
        const own = { hash: hashes[i % w.PASSWORD_COUNT] as string, superuser: w.isSuperuser(i), acl: w.ownRules(name) };
        p.hset(keys.user(name), ...encodeFields({ ...own, ...same }));
      }
      p.zadd(keys.index(b), ...names.flatMap((name) => ['0', name]));
      for (const [err] of (await p.exec()) ?? []) if (err) throw err;
    }
  } finally {
    c.disconnect();
  }
} // prettier-ignore

export async function measureCluster(
  s: RunSettings,
  n: number,
  hashes: string[],
  context: (pid: number) => MeasureContext,
  standalone: CheckRow[],
): Promise<ClusterRow[]> {
  const cluster = await startCluster();
  const rows: ClusterRow[] = [];
  try {
    const prefix = `bench:${Math.random().toString(16).slice(2, 14)}:`;
    await load(cluster.seedList, prefix, n, hashes);
    const authd = await startService({
      env: { REDIS_CLUSTER_NODES: cluster.seedList, REDIS_KEY_PREFIX: prefix, HOST: '127.0.0.1',
        PASSWD_FILE: '', ACL_FILE: '', AUTH_FAIL_LIMIT: '1000000' },
      readyPath: '/readyz',
    }); // prettier-ignore
    try {
      const t = { url: authd.url, m: context(authd.pid) };
      const shape: w.Shape = { devices: n, connections: s.connections, warmSet: s.warmSet };
      await peakLoad(t.url, w.buildWorkload('acl-json', shape, 9), { ...s, seconds: 2 });
      for (const id of ['acl-json', 'user-warm'] as const) {
        const before =
          id === 'user-warm'
            ? async () => {
                await peakLoad(t.url, w.warmSetRequests(shape), { ...s, seconds: 60, amount: w.warmSetSize(shape) });
                await sleep(100);
              }
            : undefined; // prettier-ignore
        const ok = id === 'acl-json' ? [200, 403] : [200];
        const r = await peakRun(s, t, `cluster ${id} @ ${n}`, ok, (a) => w.buildWorkload(id, shape, a * 100), { before });
        const same = standalone.find((c) => c.workload === id && c.devices === n)?.authd;
        rows.push({ workload: id, devices: n, cluster: r, standalone: same });
      } // prettier-ignore
    } finally {
      await authd.stop(15_000);
    }
  } finally {
    await cluster.stop();
  }
  return rows;
}

export function renderCluster(rows: ClusterRow[]): string {
  const lines = [
    '## Redis Cluster beside standalone',
    '',
    'The same peak runs against a 3 primaries + 3 replicas cluster on this host (devices spread',
    'over 64 index buckets); ratio = cluster ÷ standalone answers per second, same run. Failover',
    'times: docs/high-availability.md (measured by the failover tests).',
    '',
    '| workload | devices | standalone /s | cluster /s | ratio | cluster p99 ms |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const base = r.standalone?.rps;
    lines.push(
      `| ${r.workload} | ${r.devices} | ${base ? Math.round(base) : '—'} | ${Math.round(r.cluster.rps)} | ${base ? (r.cluster.rps / base).toFixed(2) : '—'} | ${r.cluster.p99.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}
