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
import { createApiKeyAuthenticator } from '../../gateway/authenticate.js';
import { createGatewayTokenSigner } from '../../lib/auth/gatewayToken.js';
import type { Principal } from '../../lib/auth/roles.js';
import { generateApiKey } from '../../lib/auth/apiKeys.js';
import { DomainError, ErrorCode } from '../../lib/errors.js';
import { TINY_GATEWAY_SECRET, startTinySubgraphs, type TinySubgraph } from './support/tinySubgraphs.js';
import { eventually, subscribe, untilHeard } from './support/wsClient.js';

let people: TinySubgraph;
let companies: TinySubgraph;
let gateway: RunningGateway;

/** API keys of this suite and whom they name (the platform keeps them in MongoDB; this suite needs none). */
const KEYS: Record<string, Principal> = {
  'key-alpha': { sandbox: 'alpha', role: 'viewer', keyId: 'k-alpha' },
  'key-beta': { sandbox: 'beta', role: 'editor', keyId: 'k-beta' },
  'key-default': { sandbox: 'default', role: 'viewer', keyId: 'k-default' },
  'key-odd': { sandbox: 'odd', role: 'viewer', keyId: 'k-odd' },
  'key-even': { sandbox: 'even', role: 'viewer', keyId: 'k-even' },
  'key-sub-a': { sandbox: 'sub-a', role: 'editor', keyId: 'k-sub-a' },
  'key-sub-b': { sandbox: 'sub-b', role: 'viewer', keyId: 'k-sub-b' },
};
/** Each named key as a real API key (the gateway refuses anything shaped otherwise before any lookup). */
const API_KEYS = new Map([...Object.keys(KEYS), 'no-such-key'].map((name) => [name, generateApiKey().key]));
const NAMES = new Map([...API_KEYS].map(([name, key]) => [key, name]));
const bearer = (name: string) => ({ authorization: `Bearer ${API_KEYS.get(name)}` });

beforeAll(async () => {
  ({ people, companies } = await startTinySubgraphs());
  const subgraphs = [people, companies];
  gateway = await startGateway({
    supergraphSdl: composeSubgraphs(subgraphs),
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    subgraphUrls: Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
    authenticator: createApiKeyAuthenticator({
      lookup: async (key) => {
        const principal = KEYS[NAMES.get(key) ?? ''];
        if (!principal) throw new DomainError(ErrorCode.Unauthenticated, 'Unknown API key');
        return principal;
      },
      signer: createGatewayTokenSigner(TINY_GATEWAY_SECRET),
    }),
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
    const result = await post(PERSON_WITH_COMPANY, { id: '1' }, bearer('key-alpha'));
    expect(result.errors).toBeUndefined();
    expect(result.data.person).toEqual({ id: '1', name: 'Person 1', company: { name: 'Company of 1', sandbox: 'alpha' } });
  });

  it("forwards the key's sandbox and role in a signed token on root and _entities fetches", async () => {
    people.seen.length = 0;
    companies.seen.length = 0;
    await post(PERSON_WITH_COMPANY, { id: '2' }, { ...bearer('key-beta'), 'x-sandbox': 'beta' });
    expect(people.seen).toEqual([{ kind: 'http', sandbox: 'beta', role: 'editor', operation: 'person' }]);
    expect(companies.seen).toEqual([{ kind: 'http', sandbox: 'beta', role: 'editor', operation: '_entities' }]);
  });

  it('refuses requests without a valid API key before calling any subgraph', async () => {
    people.seen.length = 0;
    for (const headers of [{}, bearer('no-such-key'), { authorization: 'Basic a2V5' }]) {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: PERSON_WITH_COMPANY, variables: { id: '3' } }),
      });
      expect(response.status).toBe(401);
      const result = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(result.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    }
    expect(people.seen).toEqual([]);
  });

  it("answers another sandbox named in x-sandbox exactly as one that does not exist", async () => {
    people.seen.length = 0;
    const attempt = async (sandbox: string) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer('key-alpha'), 'x-sandbox': sandbox },
        body: JSON.stringify({ query: PERSON_WITH_COMPANY, variables: { id: '4' } }),
      });
      return { status: response.status, body: ((await response.json()) as { errors: unknown[] }).errors };
    };
    const other = await attempt('beta');
    const missing = await attempt('nosuch');
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).toBe(JSON.stringify(missing.body).replaceAll('nosuch', 'beta'));
    const invalid = await attempt('Not A Sandbox!');
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('INVALID_SANDBOX');
    expect(people.seen).toEqual([]);
  });

  it('keeps two sandboxes apart when identical queries run at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(PERSON_WITH_COMPANY, { id: 'same' }, bearer(i % 2 ? 'key-odd' : 'key-even'))),
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
      connectionParams: bearer('key-sub-a'),
    });
    const inB = subscribe<{ personRenamed: any }>(gateway.wsUrl, SUBSCRIPTION, { connectionParams: bearer('key-sub-b') });
    try {
      // The gateway opens its subgraph websocket when the client subscribes.
      await eventually(() => people.seen.filter((s) => s.kind === 'ws').length === 2, 5_000, 'both subgraph subscriptions');
      expect(people.seen.filter((s) => s.kind === 'ws')).toEqual(
        expect.arrayContaining([
          { kind: 'ws', sandbox: 'sub-a', role: 'editor', operation: 'personRenamed' },
          { kind: 'ws', sandbox: 'sub-b', role: 'viewer', operation: 'personRenamed' },
        ]),
      );

      // The subgraph subscribes to its event source just after the socket opens: rename until heard.
      await untilHeard(inA, async (attempt) => {
        const renamed = await post(RENAME, { id: '7', name: `Ada ${attempt}` }, bearer('key-sub-a'));
        expect(renamed.errors).toBeUndefined();
      }, 'the subscriber in sub-a to hear a rename');
      expect(inA.events[0]).toEqual({
        personRenamed: { id: '7', name: expect.stringMatching(/^Ada \d+$/), company: { name: 'Company of 7', sandbox: 'sub-a' } },
      });
      // The event's company came from an _entities fetch carrying the subscriber's own token.
      expect(companies.seen).toContainEqual({ kind: 'http', sandbox: 'sub-a', role: 'editor', operation: '_entities' });

      // sub-b's subscriber proves it listens with renames of its own, the last one after every rename in sub-a:
      // its events arrive in order, so a rename of sub-a's sent to it would have arrived before that fence.
      await untilHeard(inB, (attempt) => post(RENAME, { id: '8', name: `Bo ${attempt}` }, bearer('key-sub-b')), 'the subscriber in sub-b to hear a rename');
      await post(RENAME, { id: '8', name: 'fence' }, bearer('key-sub-b'));
      await expect.poll(() => inB.events.map((e) => e.personRenamed.name), { timeout: 5_000 }).toContain('fence');
      expect(inB.events.filter((e) => e.personRenamed.id !== '8')).toEqual([]);
      expect([...new Set(inB.events.map((e) => e.personRenamed.company.sandbox))]).toEqual(['sub-b']);
      expect(inA.errors).toEqual([]);
    } finally {
      await Promise.all([inA.close(), inB.close()]);
    }
  });
});

describe('gateway websocket connections', () => {
  it('closes a connection without a valid key with 4401, one naming an invalid sandbox with 4403, each saying why', async () => {
    const refusals = [
      { connectionParams: {}, closed: { code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED: ./) } },
      { connectionParams: bearer('no-such-key'), closed: { code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED: ./) } },
      { connectionParams: { ...bearer('key-alpha'), 'x-sandbox': 'NOPE' }, closed: { code: 4403, reason: expect.stringMatching(/^INVALID_SANDBOX/) } },
    ];
    for (const { connectionParams, closed } of refusals) {
      const refused = subscribe(gateway.wsUrl, 'subscription { personRenamed { id } }', { connectionParams });
      try {
        await eventually(() => refused.errors.length > 0, 5_000, 'the connection to be closed');
        expect(refused.errors[0]).toMatchObject(closed);
      } finally {
        await refused.close();
      }
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
