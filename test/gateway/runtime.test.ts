/**
 * The gateway on its own, against two small in-memory Apollo subgraphs (no
 * MongoDB): cross-subgraph queries, the sandbox and credentials forwarded on
 * every fetch and on the subscription websocket, subscriptions resolved across
 * subgraphs, and /healthz.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logger.js';
import { composeSubgraphs } from '../../gateway/compose.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { startTinySubgraphs, type TinySubgraph } from './support/tinySubgraphs.js';
import { eventually, subscribe } from './support/wsClient.js';

let people: TinySubgraph;
let companies: TinySubgraph;
let gateway: RunningGateway;

beforeAll(async () => {
  ({ people, companies } = await startTinySubgraphs());
  const subgraphs = [people, companies];
  gateway = await startGateway({
    supergraphSdl: composeSubgraphs(subgraphs),
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    subgraphUrls: Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([people?.stop(), companies?.stop()]);
});

async function post(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

const PERSON_WITH_COMPANY = /* GraphQL */ `
  query ($id: ID!) {
    person(id: $id) { id name company { name sandbox } }
  }
`;

describe('gateway runtime', () => {
  it('resolves one query across two subgraphs', async () => {
    const result = await post(PERSON_WITH_COMPANY, { id: '1' }, { 'x-sandbox': 'alpha' });
    expect(result.errors).toBeUndefined();
    expect(result.data.person).toEqual({ id: '1', name: 'Person 1', company: { name: 'Company of 1', sandbox: 'alpha' } });
  });

  it('forwards x-sandbox and authorization on root and _entities fetches', async () => {
    people.seen.length = 0;
    companies.seen.length = 0;
    await post(PERSON_WITH_COMPANY, { id: '2' }, { 'x-sandbox': 'beta', authorization: 'Bearer k1' });
    expect(people.seen).toEqual([{ kind: 'http', sandbox: 'beta', authorization: 'Bearer k1', operation: 'person' }]);
    expect(companies.seen).toEqual([{ kind: 'http', sandbox: 'beta', authorization: 'Bearer k1', operation: '_entities' }]);
  });

  it('uses the default sandbox when none is named', async () => {
    const result = await post(PERSON_WITH_COMPANY, { id: '3' });
    expect(result.data.person.company.sandbox).toBe('default');
  });

  it('refuses an invalid sandbox name before calling any subgraph', async () => {
    people.seen.length = 0;
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sandbox': 'Not A Sandbox!' },
      body: JSON.stringify({ query: PERSON_WITH_COMPANY, variables: { id: '4' } }),
    });
    expect(response.status).toBe(400);
    const result = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(result.errors[0]?.extensions.code).toBe('INVALID_SANDBOX');
    expect(result.errors[0]?.message).toMatch(/Invalid sandbox name/);
    expect(people.seen).toEqual([]);
  });

  it('keeps two sandboxes apart when identical queries run at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(PERSON_WITH_COMPANY, { id: 'same' }, { 'x-sandbox': i % 2 ? 'odd' : 'even' })),
    );
    results.forEach((result, i) => expect(result.data.person.company.sandbox).toBe(i % 2 ? 'odd' : 'even'));
  });
});

describe('gateway subscriptions', () => {
  const SUBSCRIPTION = /* GraphQL */ `
    subscription { personRenamed { id name company { name sandbox } } }
  `;
  const RENAME = /* GraphQL */ `
    mutation ($id: ID!, $name: String!) { renamePerson(id: $id, name: $name) { id } }
  `;

  it('streams events resolved across subgraphs, only to subscribers of the same sandbox', async () => {
    people.seen.length = 0;
    companies.seen.length = 0;
    const inA = subscribe<{ personRenamed: any }>(gateway.wsUrl, SUBSCRIPTION, {
      connectionParams: { 'x-sandbox': 'sub-a', authorization: 'Bearer ws' },
    });
    const inB = subscribe<{ personRenamed: any }>(gateway.wsUrl, SUBSCRIPTION, { connectionParams: { 'x-sandbox': 'sub-b' } });
    try {
      // The gateway opens its subgraph websocket when the client subscribes.
      await eventually(() => people.seen.filter((s) => s.kind === 'ws').length === 2, 5_000, 'both subgraph subscriptions');
      expect(people.seen.filter((s) => s.kind === 'ws')).toEqual(
        expect.arrayContaining([
          { kind: 'ws', sandbox: 'sub-a', authorization: 'Bearer ws', operation: 'personRenamed' },
          { kind: 'ws', sandbox: 'sub-b', authorization: undefined, operation: 'personRenamed' },
        ]),
      );

      const event = inA.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const renamed = await post(RENAME, { id: '7', name: 'Ada' }, { 'x-sandbox': 'sub-a' });
      expect(renamed.errors).toBeUndefined();

      expect(await event).toEqual({
        personRenamed: { id: '7', name: 'Ada', company: { name: 'Company of 7', sandbox: 'sub-a' } },
      });
      // The event's company came from an _entities fetch carrying the subscriber's sandbox and credentials.
      expect(companies.seen).toContainEqual({ kind: 'http', sandbox: 'sub-a', authorization: 'Bearer ws', operation: '_entities' });

      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(inB.events).toEqual([]);
      expect(inA.errors).toEqual([]);
    } finally {
      await Promise.all([inA.close(), inB.close()]);
    }
  });
});

describe('gateway websocket connections', () => {
  it('closes a connection that names an invalid sandbox with 4403 Forbidden', async () => {
    const refused = subscribe(gateway.wsUrl, 'subscription { personRenamed { id } }', { connectionParams: { 'x-sandbox': 'NOPE' } });
    try {
      await eventually(() => refused.errors.length > 0, 5_000, 'the connection to be closed');
      expect((refused.errors[0] as { code?: number }).code).toBe(4403);
    } finally {
      await refused.close();
    }
  });
});

describe('gateway /healthz', () => {
  const healthz = async () => {
    const response = await fetch(new URL('/healthz', gateway.url));
    return { status: response.status, body: (await response.json()) as { status: string; failed: string[] } };
  };

  it('answers 200 when every subgraph answers', async () => {
    expect(await healthz()).toMatchObject({ status: 200, body: { status: 'ok', failed: [] } });
  });

  it('answers 503 naming the subgraphs that failed', async () => {
    companies.setHealthy(false);
    try {
      expect(await healthz()).toMatchObject({ status: 503, body: { status: 'unavailable', failed: ['companies'] } });
    } finally {
      companies.setHealthy(true);
    }
  });
});
