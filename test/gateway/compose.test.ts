/** Composition from supergraph.yaml, in Node, as the gateway and `npm run compose` do it. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, isObjectType } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { CompositionError, composeSupergraph } from '../../gateway/compose.js';
import { SupergraphConfigError, readSupergraphConfig } from '../../gateway/supergraphConfig.js';
import { SUBGRAPH_NAMES } from '../../lib/config.js';

const FIXTURE_CONFIG = fileURLToPath(new URL('./fixtures/supergraph.yaml', import.meta.url));
const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function writeConfig(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cdp-supergraph-'));
  tempDirs.push(dir);
  const path = join(dir, 'supergraph.yaml');
  await writeFile(path, yaml);
  return path;
}

describe("the repository's supergraph.yaml", () => {
  it('lists every subgraph with an exact federation version, routing URL and schema file', async () => {
    const config = await readSupergraphConfig();
    expect(config.federationVersion).toMatch(/^2\.\d+\.\d+$/);
    expect(Object.keys(config.subgraphs).sort()).toEqual([...SUBGRAPH_NAMES].sort());
    expect(config.subgraphs.profile.routingUrl).toBe('http://localhost:4001/graphql');
    expect(config.subgraphs.account.routingUrl).toBe('http://localhost:4002/graphql');
    expect(config.subgraphs.segment.routingUrl).toBe('http://localhost:4003/graphql');
    expect(config.subgraphs.destination.routingUrl).toBe('http://localhost:4004/graphql');
    expect(config.subgraphs.profile.schemaFile).toMatch(/subgraphs\/profile\/schema\.graphql$/);
  });

  it('composes the four subgraphs into a supergraph', async () => {
    const sdl = await composeSupergraph();
    const schema = buildSchema(sdl, { assumeValidSDL: true });
    expect(isObjectType(schema.getType('Query'))).toBe(true);
    for (const name of SUBGRAPH_NAMES) expect(sdl).toContain(`name: "${name}"`);
    expect(sdl).toContain('url: "http://localhost:4001/graphql"');
  });

  it('writes the routing URLs it is given into the supergraph', async () => {
    const sdl = await composeSupergraph({ routingUrls: { account: 'http://127.0.0.1:5555/graphql' } });
    expect(sdl).toContain('url: "http://127.0.0.1:5555/graphql"');
    expect(sdl).not.toContain('url: "http://localhost:4002/graphql"');
  });
});

describe('composeSupergraph', () => {
  it('composes a supergraph.yaml whose schema files resolve against its own directory', async () => {
    const sdl = await composeSupergraph({ configPath: FIXTURE_CONFIG });
    expect(sdl).toContain('type Person');
    expect(sdl).toMatch(/account: Account\s+@join__field\(graph: ACCOUNT\)/);
    expect(sdl).toContain('segmentChanged: Segment!');
  });

  it('fails with every composition problem when subgraphs disagree', async () => {
    const broken = /* GraphQL */ `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])
      type Account @key(fields: "id") {
        id: ID!
        name: Int! @shareable
      }
      type Query { profile(id: ID!): Account }
    `;
    const error = await composeSupergraph({ configPath: FIXTURE_CONFIG, schemas: { profile: broken } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionError);
    const composition = error as CompositionError;
    expect(composition.code).toBe('COMPOSITION_FAILED');
    expect(composition.problems.length).toBeGreaterThan(0);
    expect(composition.message).toMatch(/Account\.name/);
    expect(composition.problems.map((p) => p.code)).toEqual(expect.arrayContaining([expect.stringMatching(/^[A-Z_]+$/)]));
  });

  it('names the subgraph whose SDL does not parse', async () => {
    const error = await composeSupergraph({ configPath: FIXTURE_CONFIG, schemas: { segment: 'type Query {' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionError);
    expect((error as CompositionError).problems).toEqual([
      { code: 'INVALID_GRAPHQL', message: expect.stringMatching(/^\[segment\] Syntax Error/) },
    ]);
  });

  it('refuses a subgraph that links a newer federation spec than federation_version', async () => {
    const newer = /* GraphQL */ `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
      type Query { destination(id: ID!): String }
    `;
    const error = await composeSupergraph({
      configPath: await writeFixtureCopy('=2.3.0'),
      schemas: { destination: newer },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionError);
    expect((error as CompositionError).problems[0]?.code).toBe('UNSUPPORTED_FEDERATION_VERSION');
  });
});

describe('readSupergraphConfig', () => {
  it('lists every problem in a malformed file', async () => {
    const path = await writeConfig(
      [
        'federation_version: 2',
        'subgraphs:',
        '  profile:',
        '    routing_url: localhost:4001',
        '    schema: { file: ./p.graphql }',
        '  billing:',
        '    routing_url: http://localhost:4009/graphql',
      ].join('\n'),
    );
    const error = await readSupergraphConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupergraphConfigError);
    const problems = (error as SupergraphConfigError).problems.join('\n');
    expect(problems).toMatch(/federation_version must be an exact version/);
    expect(problems).toMatch(/subgraphs\.profile\.routing_url must be an http\(s\) URL/);
    expect(problems).toMatch(/subgraphs\.billing is not a known subgraph/);
    expect(problems).toMatch(/subgraphs\.account is missing/);
  });
});

async function writeFixtureCopy(federationVersion: string): Promise<string> {
  const fixtureDir = fileURLToPath(new URL('./fixtures/', import.meta.url));
  const yaml = (await readFile(FIXTURE_CONFIG, 'utf8'))
    .replace(/federation_version: .*/, `federation_version: ${federationVersion}`)
    .replaceAll('file: ./', `file: ${fixtureDir}`);
  return writeConfig(yaml);
}
