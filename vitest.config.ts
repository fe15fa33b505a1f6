import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'devdb/**/*.test.ts', 'lib/**/*.test.ts', 'subgraphs/**/*.test.ts', 'gateway/**/*.test.ts', 'jobs/**/*.test.ts'],
    // One MongoDB (MONGODB_URI, mongodb-memory-server or devdb) for the whole run;
    // each suite works in its own databases and drops them.
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
