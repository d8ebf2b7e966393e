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
      'test/e2e/**/*.test.ts',
      'test/cluster/**/*.test.ts',
      'test/analytics/attribution-through-journey.test.ts',
      'test/channels/in-app-adapter.test.ts',
    ],
    exclude: [
      // Pure functions: nothing in them reaches Redis.
      'test/runtime/ids.test.ts',
      'test/policy/policy-chain.test.ts',
      'test/policy/quiet-hours.test.ts',
      'test/tracking/track-links.test.ts',
      'test/tracking/tracking-token.test.ts',
    ],
    globalSetup: ['test/support/cluster-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
