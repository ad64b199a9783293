import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Each file starts its own process tree; two cores run two files at a time.
    maxWorkers: 2,
  },
});
