import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          globals: true,
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          globals: true,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // End-to-end tests start servers and spawn the CLI; two files at a time on a 2-core machine.
          pool: 'forks',
        },
      },
    ],
  },
});
