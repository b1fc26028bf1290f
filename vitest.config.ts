import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real servers on a 2-core machine: run files one at a time so timings stay sane.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
