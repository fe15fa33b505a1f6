/**
 * The layering rules of subgraphs/README.md, checked on the real tree, and each rule
 * shown to fire on a small made-up graph (so this test can fail).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findViolations, readImportGraph, type ImportEdge } from './importGraph.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const rulesOf = (edges: ImportEdge[]) => findViolations(edges).map((violation) => violation.rule);

describe('layering', () => {
  it('the tree keeps every rule', () => {
    const edges = readImportGraph(ROOT);
    // The scan itself works: it sees the composition root wiring the parts.
    expect(edges).toContainEqual({ from: 'platform/startPlatform.ts', to: 'gateway/compose.ts' });
    expect(findViolations(edges)).toEqual([]);
  });

  it('refuses lib importing a part above it, devdb aside', () => {
    expect(rulesOf([{ from: 'lib/config.ts', to: 'gateway/server.ts' }])).toEqual(['lib imports a part above it']);
    expect(rulesOf([{ from: 'lib/a.ts', to: 'subgraphs/profile/server.ts' }])).toEqual(['lib imports a part above it']);
    expect(rulesOf([{ from: 'lib/a.ts', to: 'platform/startPlatform.ts' }])).toEqual(['lib imports a part above it']);
    expect(rulesOf([{ from: 'lib/mongo/findMongo.ts', to: 'devdb/server.ts' }])).toEqual([]);
  });

  it('lets a subgraph import only the view modules of another', () => {
    expect(rulesOf([{ from: 'subgraphs/segment/a.ts', to: 'subgraphs/profile/people.repository.ts' }])).toEqual([
      'a subgraph imports another subgraph (other than its *.view.ts)',
    ]);
    expect(rulesOf([{ from: 'subgraphs/segment/a.ts', to: 'subgraphs/profile/profile.view.ts' }])).toEqual([]);
  });

  it('refuses the gateway importing a subgraph, and benchmarks or product code importing tests or fixtures', () => {
    expect(rulesOf([{ from: 'gateway/server.ts', to: 'subgraphs/profile/server.ts' }])).toEqual(['the gateway imports a subgraph']);
    expect(rulesOf([{ from: 'bench/ingest.ts', to: 'test/support/mongo.ts' }])).toEqual(['a benchmark imports test code']);
    expect(rulesOf([{ from: 'jobs/worker.ts', to: 'test/support/mongo.ts' }])).toEqual(['product code imports test code']);
    expect(rulesOf([{ from: 'subgraphs/profile/a.ts', to: 'lib/fixtures/exportFiles.ts' }])).toEqual(['product code imports lib/fixtures']);
    expect(rulesOf([{ from: 'lib/config.ts', to: 'lib/fixtures/exportFiles.ts' }])).toEqual(['product code imports lib/fixtures']);
    expect(rulesOf([{ from: 'bench/ingest.ts', to: 'lib/fixtures/exportFiles.ts' }])).toEqual([]);
    // Fixtures stand above the product: they may use its types.
    expect(rulesOf([{ from: 'lib/fixtures/segmentExpressions.ts', to: 'subgraphs/segment/language/index.ts' }])).toEqual([]);
  });

  it('refuses two folders that import each other, each subgraph counting as its own folder', () => {
    const cycle = [
      { from: 'jobs/import.job.ts', to: 'subgraphs/profile/imports.repository.ts' },
      { from: 'subgraphs/profile/imports.service.ts', to: 'jobs/sources.ts' },
    ];
    expect(rulesOf(cycle)).toEqual(['jobs and subgraphs/profile import each other', 'jobs and subgraphs/profile import each other']);
    expect(rulesOf([cycle[0]!])).toEqual([]);
    // A cycle through a view is still a cycle.
    expect(
      rulesOf([
        { from: 'subgraphs/segment/a.ts', to: 'subgraphs/profile/profile.view.ts' },
        { from: 'subgraphs/profile/profile.view.ts', to: 'subgraphs/segment/b.view.ts' },
      ]),
    ).toEqual(['subgraphs/profile and subgraphs/segment import each other', 'subgraphs/profile and subgraphs/segment import each other']);
  });
});
