import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'docs/examples/*.test.ts', 'journeys/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share one Redis; two forks keep CI's two cores busy without starving Redis.
    pool: 'forks',
    maxWorkers: 2,
  },
});
