// Redis Sentinel sets and Redis Clusters, from the Redis starter.
import { sleep } from '../http';
import { runCommand } from './core';
import { redisPing } from './ports';
import { startRedis, type RedisProcess } from './redis';

const cliLines = async (r: RedisProcess, ...args: string[]) =>
  (await r.cli(...args)).stdout.split('\n').map((l) => l.trim());

export interface SentinelSet {
  name: string;
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: RedisProcess[];
  /** REDIS_SENTINELS for the service. */
  sentinelList: string;
  /** The port the first sentinel that answers names as primary. */
  currentPrimaryPort(): Promise<number>;
  /** The port every sentinel names as primary, or null while they disagree. */
  agreedPrimaryPort(): Promise<number | null>;
  stop(): Promise<void>;
}

/** A primary, one replica and three sentinels (quorum 2) that fail over after ~1 s. */
export async function startSentinelSet(name = 'authd'): Promise<SentinelSet> {
  const primary = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const conf = [
    `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
    `sentinel down-after-milliseconds ${name} 1000`,
    `sentinel failover-timeout ${name} 5000`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n');
  const sentinels = await Promise.all([0, 1, 2].map(() => startRedis({ conf, sentinel: true })));
  const named = async (s: RedisProcess) => {
    const [, port] = await cliLines(s, 'SENTINEL', 'get-master-addr-by-name', name);
    return port ? Number(port) : null;
  };
  const set: SentinelSet = {
    name,
    primary,
    replica,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    async currentPrimaryPort() {
      for (const s of sentinels) {
        const port = await named(s).catch(() => null);
        if (port) return port;
      }
      throw new Error('no sentinel answers');
    },
    async agreedPrimaryPort() {
      const ports = await Promise.all(sentinels.map((s) => named(s).catch(() => null)));
      return ports.every((p) => p === ports[0]) ? (ports[0] ?? null) : null;
    },
    async stop() {
      await Promise.all([...sentinels.map((s) => s.stop()), primary.stop(), replica.stop()]);
    },
  };
  // Until the replica is in sync and every sentinel knows it, a failover has nowhere to go.
  const until = Date.now() + 15_000;
  for (;;) {
    const info = (await replica.cli('INFO', 'replication')).stdout;
    const known = await Promise.all(
      sentinels.map(async (s) => (await s.cli('SENTINEL', 'replicas', name)).stdout.trim() !== ''),
    );
    if (/master_link_status:up/.test(info) && known.every(Boolean)) break;
    if (Date.now() > until) throw new Error('sentinel set did not settle in 15 s');
    await sleep(100);
  }
  return set;
}

export interface ClusterNodes {
  /** Primaries first, then replicas, as created. */
  nodes: RedisProcess[];
  /** REDIS_CLUSTER_NODES for the service. */
  seedList: string;
  /** Ports of the live nodes that are primaries right now, sorted. */
  primaryPorts(): Promise<number[]>;
  /** Resolves once every live node reports cluster_state:ok. */
  waitOk(timeoutMs?: number): Promise<void>;
  /**
   * kill -9 of the first primary; resolves once a replica took its place and the cluster is ok
   * again. `killedAt`/`promotedAt` are Date.now() values.
   */
  killPrimary(): Promise<{ victim: RedisProcess; killedAt: number; promotedAt: number }>;
  stop(): Promise<void>;
}

/** 3 primaries + 3 replicas on loopback (`redis-cli --cluster create … --cluster-replicas 1`). */
export async function startCluster(): Promise<ClusterNodes> {
  const args = [
    '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000',
    '--cluster-replica-validity-factor', '0',
  ]; // prettier-ignore
  const nodes = await Promise.all(Array.from({ length: 6 }, () => startRedis({ args })));
  const created = await runCommand('redis-cli', [
    '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas', '1', '--cluster-yes',
  ]); // prettier-ignore
  if (created.code !== 0) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
  }
  const live = async () => {
    const up = await Promise.all(nodes.map((n) => redisPing(n.port)));
    return nodes.filter((_, i) => up[i]);
  };
  const handle: ClusterNodes = {
    nodes,
    seedList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async primaryPorts() {
      const out: number[] = [];
      for (const n of await live())
        if ((await cliLines(n, 'ROLE'))[0] === 'master') out.push(n.port);
      return out.sort();
    },
    async waitOk(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const infos = await Promise.all((await live()).map((n) => n.cli('CLUSTER', 'INFO')));
        if (infos.length > 0 && infos.every((i) => /cluster_state:ok/.test(i.stdout))) return;
        if (Date.now() > until) throw new Error(`cluster not ok after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    async killPrimary() {
      const before = await handle.primaryPorts();
      const victim = nodes.find((n) => n.port === before[0])!;
      const killedAt = Date.now();
      await victim.kill('SIGKILL');
      const until = killedAt + 30_000;
      for (;;) {
        const now = await handle.primaryPorts();
        if (now.length === 3 && !now.includes(victim.port)) break;
        if (Date.now() > until)
          throw new Error(`no replica promoted 30 s after kill -9 of ${victim.port}`);
        await sleep(100);
      }
      await handle.waitOk(30_000);
      return { victim, killedAt, promotedAt: Date.now() };
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
  await handle.waitOk();
  // Writes wait for a replica (REDIS_MIN_REPLICAS_ACK): every replica in sync first.
  const until = Date.now() + 20_000;
  for (const n of nodes) {
    for (;;) {
      const info = (await n.cli('INFO', 'replication')).stdout;
      if (/role:master/.test(info) || /master_link_status:up/.test(info)) break;
      if (Date.now() > until) throw new Error(`replica ${n.port} not in sync after 20 s`);
      await sleep(50);
    }
  }
  return handle;
}
