import { defineConfig } from 'vitest/config';

/**
 * The integration suites again, on a private 3-master Redis Cluster (`npm run test:cluster`):
 * every test here reaches Redis, through `test/support/redis.ts`, as Cluster connections.
 * Unit tests, and suites that never touch Redis, run once, in `vitest.config.ts`.
 */
export default defineConfig({
  test: {
    include: [
      'test/runtime/**/*.test.ts',
      'test/delivery/**/*.test.ts',
      'test/http/**/*.test.ts',
      'test/policy/**/*.test.ts',
      'test/tracking/**/*.test.ts',
      'test/cluster/**/*.test.ts',
      'test/workers/**/*.test.ts',
      'test/analytics/attribution-through-journey.test.ts',
      'test/channels/in-app-adapter.test.ts',
    ],
    exclude: [
      // Pure functions: nothing in them reaches Redis.
      'test/runtime/ids.test.ts',
      'test/runtime/queue-shard-layout.test.ts',
      'test/http/api-key-auth.test.ts',
      'test/policy/policy-chain.test.ts',
      'test/policy/quiet-hours.test.ts',
      'test/tracking/track-links.test.ts',
      'test/tracking/tracking-token.test.ts',
      'test/delivery/delivery-parts.test.ts',
      // The dashboard's links behind a proxy, in a browser: no Redis path of its own.
      'test/http/dashboard-behind-proxy.test.ts',
      // SIGKILLs a worker process four times and waits out its locks: about 100 s on its own. The
      // lease and commit paths it proves are the ones test/cluster/three-workers.test.ts runs on
      // the cluster, with three worker processes at once.
      'test/runtime/crash.test.ts',
      // npm start through a whole 30-day lifecycle: the entry point on the cluster is covered by
      // test/http/api-process.test.ts, and the journeys' Redis paths by the suites above.
      'test/e2e/lifecycle-process.test.ts',
    ],
    globalSetup: ['test/support/cluster-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
