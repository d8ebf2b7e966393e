import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redis-cluster.js';

/**
 * The cluster run's globalSetup: a private 3-master Redis Cluster for the whole run. Its nodes
 * reach the tests (and the processes they start) as REDIS_CLUSTER_NODES, which
 * `test/support/redis.ts` turns into Cluster connections.
 */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster();
  process.env.REDIS_CLUSTER_NODES = cluster.nodes.join(',');
  delete process.env.REDIS_URL;
  return async () => {
    await cluster.stop();
  };
}
