// setupFiles of the `cluster` jest project: this suite's helpers use the cluster.
process.env.TEST_REDIS_TOPOLOGY = 'cluster';
