// Two projects: every suite on the standalone Redis, and the suites that touch the store's key
// layout once more on a real Redis Cluster (3 primaries + 3 replicas, started once for the run
// by test/support/cluster-setup.ts). `jest --selectProjects standalone` runs the first only.
const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

/** The suites the cluster project runs (checks, API, listing, export, invalidation, …). */
const ON_CLUSTER = [
  'checks/check-endpoints',
  'checks/invalidation',
  'checks/throttle',
  'checks/rehash',
  'checks/events-stream',
  'checks/records',
  'api/devices-api',
  'export/exporter',
  'hostile/concurrency',
  'store/cluster-writes-failover',
  'store/presence-store',
  'api/sessions-api',
];
/** Suites that only make sense on the cluster project (they start a cluster of their own). */
const CLUSTER_ONLY = ['store/cluster-writes-failover'];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  // Integration suites share one real Redis and spawn real brokers: two workers fit 2 cores.
  maxWorkers: 2,
  projects: [
    {
      ...base,
      displayName: 'standalone',
      testPathIgnorePatterns: [
        '/node_modules/',
        ...CLUSTER_ONLY.map((s) => `/test/${s}\\.test\\.ts$`),
      ],
    },
    {
      ...base,
      displayName: 'cluster',
      testMatch: ON_CLUSTER.map((s) => `**/test/${s}.test.ts`),
      globalSetup: '<rootDir>/test/support/cluster-setup.ts',
      globalTeardown: '<rootDir>/test/support/cluster-teardown.ts',
      setupFiles: ['<rootDir>/test/support/cluster-env.ts'],
    },
  ],
};
