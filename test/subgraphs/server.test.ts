/** The shared subgraph server: health, sandbox from the gateway token, error boundary, limits, stop. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabases } from '../../lib/mongo/databases.js';
import { startSegmentSubgraph } from '../../subgraphs/segment/server.js';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { gql, postGraphQL, requestHeaders } from './support/graphql.js';
import { TEST_SECURITY } from './support/security.js';
import { startSubgraphSuite, type SubgraphSuite } from './support/subgraphSuite.js';

describe('subgraph server', () => {
  let suite: SubgraphSuite;

  beforeAll(async () => {
    suite = await startSubgraphSuite(startSegmentSubgraph);
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('listens on the port it reports', () => {
    expect(suite.service.port).toBeGreaterThan(0);
    expect(suite.service.url).toBe(`http://127.0.0.1:${suite.service.port}/graphql`);
    expect(suite.service.name).toBe('segment');
  });

  it('answers GET /health with 200 while MongoDB answers', async () => {
    const response = await fetch(new URL('/health', suite.url));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('runs each request in the sandbox its gateway token names; x-sandbox is ignored', async () => {
    const create = `mutation { createSegment(input: { name: "Mine", expression: "exists(workEmail)", targetEntity: PERSON }) { id } }`;
    await gql(suite.url, create, {}, { sandbox: 'token-sandbox', headers: { 'x-sandbox': 'header-sandbox' } });
    expect(await suite.databases.sandbox('token-sandbox').collection('segments').countDocuments()).toBe(1);
    expect(await suite.databases.sandbox('header-sandbox').collection('segments').countDocuments()).toBe(0);
    // An invalid x-sandbox is not even looked at.
    const response = await postGraphQL(suite.url, `{ segments { name } }`, {}, { sandbox: 'token-sandbox', headers: { 'x-sandbox': 'Not Valid!' } });
    expect(response.status).toBe(200);
    expect(response.data?.segments).toEqual([{ name: 'Mine' }]);
    const longest = await postGraphQL(suite.url, `{ segments { id } }`, {}, { sandbox: `a${'b'.repeat(30)}` });
    expect(longest.status).toBe(200);
  });

  it('refuses a token that names an invalid sandbox with UNAUTHENTICATED', async () => {
    for (const sandbox of ['Upper', '1digit', 'a'.repeat(32), 'has space', 'under_score', '']) {
      const response = await postGraphQL(suite.url, `{ segments { id } }`, {}, { sandbox });
      expect(response.status).toBe(401);
      expect(response.data ?? null).toBeNull();
      expect(response.errors).toHaveLength(1);
      expect(response.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('keeps GraphQL error codes for bad requests', async () => {
    const parse = await postGraphQL(suite.url, `{ segments { id }`);
    expect(parse.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const validation = await postGraphQL(suite.url, `{ nope }`);
    expect(validation.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const page = await postGraphQL(suite.url, `{ segments(first: 100000) { id } }`);
    expect(page.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(page.errors?.[0].message).toMatch(/first must be an integer from 1 to 500/);
  });

  it('refuses bodies over 1 MB with 413', async () => {
    const response = await fetch(suite.url, {
      method: 'POST',
      headers: await requestHeaders(),
      body: JSON.stringify({ query: `{ segments { id } }`, variables: { padding: 'x'.repeat(1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.code).toBe('LIMIT_EXCEEDED');
  });

  it('answers malformed JSON with 400 and unknown paths with 404', async () => {
    const malformed = await fetch(suite.url, { method: 'POST', headers: await requestHeaders(), body: '{"query":' });
    expect(malformed.status).toBe(400);
    expect((await fetch(new URL('/nope', suite.url))).status).toBe(404);
  });
});

describe('subgraph server without MongoDB', () => {
  it('reports 503 on /health and hides internal errors from clients', async () => {
    const client = await connectTestClient({ serverSelectionTimeoutMS: 500 });
    const service = await startSegmentSubgraph({ databases: createDatabases(client, `${uniqueName('t_down_')}_`), security: TEST_SECURITY, port: 0 });
    try {
      await client.close();
      const health = await fetch(new URL('/health', service.url));
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'unavailable' });

      const response = await postGraphQL(service.url, `{ segments { id } }`);
      expect(response.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(response)).not.toMatch(/stack|Mongo|at \//i);
    } finally {
      await service.stop();
    }
  });

  it('stops idempotently and frees its port', async () => {
    const client = await connectTestClient();
    const service = await startSegmentSubgraph({ databases: createDatabases(client, `${uniqueName('t_stop_')}_`), security: TEST_SECURITY, port: 0 });
    await Promise.all([service.stop(), service.stop()]);
    await expect(fetch(new URL('/health', service.url))).rejects.toThrow();
    await client.close();
  });
});
