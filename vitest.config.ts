import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // One DynamoDB Local for the run; each test file makes its own table, so files run in parallel.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Most files wait on DynamoDB Local, child processes or Chromium rather than compute: on 2 cores
    // two workers keep about one busy (docs/testing.md), four keep both.
    maxWorkers: 4,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
