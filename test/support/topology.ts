// Which Redis the shared test setup uses: the standalone one (TEST_REDIS_URL, default the
// machine's 6379) or, in the `cluster` jest project, the 3+3 node cluster its global setup
// started (TEST_REDIS_TOPOLOGY=cluster, TEST_CLUSTER_NODES=host:port,…). Suites that go through
// these helpers run unchanged against both.
import Redis, { Cluster } from 'ioredis';
import { parseHostList } from '../../src/config';
import { cleanPrefix } from './processes';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const onCluster = () => process.env.TEST_REDIS_TOPOLOGY === 'cluster';

function clusterNodes(): string {
  const nodes = process.env.TEST_CLUSTER_NODES;
  if (!nodes) throw new Error('TEST_REDIS_TOPOLOGY=cluster needs TEST_CLUSTER_NODES');
  return nodes;
}

/** The service's REDIS_* variables for the test Redis. */
export function testRedisEnv(): Record<string, string> {
  return onCluster() ? { REDIS_CLUSTER_NODES: clusterNodes() } : { REDIS_URL: TEST_REDIS_URL };
}

/** A plain client of the test Redis, for assertions on what is stored. */
export function testRedisClient(): Redis | Cluster {
  const c = onCluster()
    ? new Cluster(parseHostList(clusterNodes()), { redisOptions: { maxRetriesPerRequest: 1 } })
    : new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  return c;
}

/** Deletes the keys under `prefix` on every primary of the test Redis. */
export async function cleanTestPrefix(prefix: string): Promise<number> {
  if (!onCluster()) return cleanPrefix(TEST_REDIS_URL, prefix);
  let n = 0;
  for (const hp of parseHostList(clusterNodes())) {
    // Replicas refuse UNLINK (READONLY): those keys go with their primary's.
    n += await cleanPrefix(`redis://${hp.host}:${hp.port}`, prefix).catch(() => 0);
  }
  return n;
}
