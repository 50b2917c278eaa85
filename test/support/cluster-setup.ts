// Global setup of the `cluster` jest project: one Redis Cluster (3 primaries + 3 replicas) for
// the whole run; every suite keeps to a key prefix of its own on it, as on the standalone Redis.
import { startCluster, type ClusterNodes } from './processes';

declare global {
  var authdTestCluster: ClusterNodes | undefined;
}

export default async function setup(): Promise<void> {
  const cluster = await startCluster();
  globalThis.authdTestCluster = cluster;
  // Read by the workers, which start after this.
  process.env.TEST_CLUSTER_NODES = cluster.seedList;
}
