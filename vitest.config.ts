import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has a CommonJS build (what Node, Apollo and graphql-ws load) and an
    // ES module build (what vite would give our sources). Two copies break graphql's
    // instanceof checks, so tests use Node's copy, exactly as `tsx` does.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts', 'devdb/**/*.test.ts', 'lib/**/*.test.ts', 'subgraphs/**/*.test.ts', 'gateway/**/*.test.ts', 'jobs/**/*.test.ts'],
    // One MongoDB (MONGODB_URI, mongodb-memory-server or devdb) for the whole run;
    // each suite works in its own databases and drops them.
    globalSetup: ['test/globalSetup.ts'],
    // Files and the tests in each run in a random order, so no test can lean on another having run first.
    // A failing order is replayed with the seed vitest prints: `npx vitest run --sequence.seed=<seed>`.
    sequence: { shuffle: true },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
