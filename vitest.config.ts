import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // e2e files build real clusters; two workers match this 2-core machine.
    maxWorkers: 2,
  },
});
