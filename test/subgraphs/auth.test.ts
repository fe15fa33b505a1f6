/**
 * Subgraphs trust only the gateway: every GraphQL request on every subgraph,
 * over HTTP and websockets, is refused with UNAUTHENTICATED unless it carries a
 * valid gateway token. `/health` needs none and reveals nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createGatewayTokenSigner } from '../../lib/auth/gatewayToken.js';
import { postGraphQL } from './support/graphql.js';
import { randomSecurity, TEST_SECURITY, tokenFor } from './support/security.js';
import { startAllSubgraphs, SUBGRAPHS, type AllSubgraphs, type SubgraphName } from './support/allSubgraphs.js';
import { createWsClient, firstOutcome, wsUrl } from './support/ws.js';
import { offsetClock } from '../support/offsetClock.js';

const SANDBOX = 'auth';

/** One read, one write and one entity type per subgraph. */
const OPERATIONS: Record<SubgraphName, { query: string; mutation: string; entity: string; collection: string }> = {
  profile: {
    query: `{ profiles { edges { node { id } } } }`,
    mutation: `mutation { upsertPeople(people: [{ workEmail: "intruder@example.com" }]) { status } }`,
    entity: 'Profile',
    collection: 'people',
  },
  account: {
    query: `{ accounts { id } }`,
    mutation: `mutation { upsertAccounts(accounts: [{ name: "Intruder" }]) { status } }`,
    entity: 'Account',
    collection: 'accounts',
  },
  segment: {
    query: `{ segments { id } }`,
    mutation: `mutation { createSegment(input: { name: "x", expression: "exists(workEmail)", targetEntity: PERSON }) { id } }`,
    entity: 'Segment',
    collection: 'segments',
  },
  destination: {
    query: `{ destinations { id } }`,
    mutation: `mutation { createDestination(input: { type: CLOUD_STORAGE, name: "x" }) { id } }`,
    entity: 'Destination',
    collection: 'destinations',
  },
};

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens a caller going around the gateway might try; each must be refused. */
const BAD_TOKENS: Array<{ name: string; token: () => Promise<string | null> }> = [
  { name: 'no token', token: async () => null },
  { name: 'an empty token', token: async () => '' },
  { name: 'a garbage token', token: async () => 'not-a-jwt' },
  { name: 'a token signed with another secret', token: () => createGatewayTokenSigner(randomSecurity().gatewaySecret).sign({ sandbox: SANDBOX, role: 'admin' }) },
  {
    name: 'an expired token',
    token: () => createGatewayTokenSigner(TEST_SECURITY.gatewaySecret, { now: () => new Date(Date.now() - 10 * 60_000) }).sign({ sandbox: SANDBOX, role: 'admin' }),
  },
  {
    name: 'an unsigned ("alg": "none") token',
    token: async () => {
      const now = Math.floor(Date.now() / 1000);
      return `${base64url({ alg: 'none' })}.${base64url({ sandbox: SANDBOX, role: 'admin', iss: 'cdp-gateway', aud: 'cdp-subgraph', iat: now, exp: now + 60 })}.`;
    },
  },
  {
    name: 'a valid token with its payload edited',
    token: async () => {
      const [header, , signature] = (await tokenFor(SANDBOX, 'viewer')).split('.');
      const now = Math.floor(Date.now() / 1000);
      return `${header}.${base64url({ sandbox: SANDBOX, role: 'admin', iss: 'cdp-gateway', aud: 'cdp-subgraph', iat: now, exp: now + 60 })}.${signature}`;
    },
  },
  { name: 'an oversized token', token: async () => 'x'.repeat(10_000) },
];

describe('gateway token required on every subgraph', () => {
  let all: AllSubgraphs;
  // Moves the subgraphs' token-expiry clock past a token's lifetime without waiting for it.
  const tokenClock = offsetClock();
  const clients: Client[] = [];

  beforeAll(async () => {
    all = await startAllSubgraphs({ tokenClock: tokenClock.now });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });
  afterAll(async () => {
    await all?.stop();
  });

  const requests = (name: SubgraphName) => {
    const op = OPERATIONS[name];
    return [
      { kind: 'query', query: op.query, variables: {} },
      { kind: 'mutation', query: op.mutation, variables: {} },
      {
        kind: '_entities',
        query: `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
        variables: { r: [{ __typename: op.entity, id: 'x_1' }] },
      },
      { kind: '_service', query: `{ _service { sdl } }`, variables: {} },
    ];
  };

  const cases = SUBGRAPHS.flatMap((subgraph) => BAD_TOKENS.map((bad) => ({ subgraph, bad: bad.name, token: bad.token })));

  it.each(cases)('$subgraph refuses queries, mutations, _entities and _service with $bad over HTTP (401)', async ({ subgraph, token }) => {
    const url = all.services[subgraph].url;
    for (const request of requests(subgraph)) {
      const response = await postGraphQL(url, request.query, request.variables, { token: await token() });
      expect(response.status, request.kind).toBe(401);
      expect(response.data ?? null, request.kind).toBeNull();
      expect(response.errors, request.kind).toHaveLength(1);
      expect(response.errors?.[0].extensions?.code, request.kind).toBe('UNAUTHENTICATED');
      expect(response.errors?.[0].message).toMatch(/Requests must come through the gateway/);
      expect(JSON.stringify(response)).not.toMatch(/stack|at \//i);
    }
    const get = await fetch(`${url}?query=${encodeURIComponent('{ _service { sdl } }')}`);
    expect(get.status).toBe(401);
    expect(await all.databases.sandbox(SANDBOX).collection(OPERATIONS[subgraph].collection).countDocuments()).toBe(0);
    expect(await all.databases.sandbox('default').collection(OPERATIONS[subgraph].collection).countDocuments()).toBe(0);
  });

  it.each(cases)('$subgraph closes a websocket with $bad at connection time (4401 UNAUTHENTICATED)', async ({ subgraph, token }) => {
    const value = await token();
    const client = createWsClient(all.services[subgraph].url, value === null ? {} : { headers: { 'x-cdp-gateway-token': value } });
    clients.push(client);
    const operation = subgraph === 'segment' ? `subscription { segmentDefinitionChanged { kind } }` : OPERATIONS[subgraph].query;
    const outcome = await firstOutcome(client, operation);
    expect(outcome).toMatchObject({ kind: 'closed', code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED/) });
  });

  it('finds the token in connection params under headers, at the top level, or on the upgrade request, in any case', async () => {
    const url = all.services.segment.url;
    const token = await tokenFor(SANDBOX, 'viewer');
    const nested = createWsClient(url, { headers: { 'X-CDP-Gateway-Token': token } });
    const top = createWsClient(url, { 'X-Cdp-Gateway-Token': token });
    clients.push(nested, top);
    for (const client of [nested, top]) {
      expect(await firstOutcome(client, `{ segments { id } }`)).toEqual({ kind: 'next', value: { data: { segments: [] } } });
    }
  });

  it('refuses new operations on an open websocket once its token has expired (UNAUTHENTICATED at subscribe time)', async () => {
    const lifetimeSeconds = 60;
    const shortLived = await createGatewayTokenSigner(TEST_SECURITY.gatewaySecret, { lifetimeSeconds }).sign({ sandbox: SANDBOX, role: 'viewer' });
    // The raw protocol, so the same socket is kept whatever a client library would do.
    const socket = new WebSocket(wsUrl(all.services.segment.url), GRAPHQL_TRANSPORT_WS_PROTOCOL);
    const messages: Array<{ id?: string; type: string; payload?: any }> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    const arrived = (type: string, id?: string) =>
      expect.poll(() => messages.find((m) => m.type === type && m.id === id), { timeout: 5_000 }).toBeDefined();
    try {
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { headers: { 'x-cdp-gateway-token': shortLived } } }));
      await arrived('connection_ack');
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ segments { id } }' } }));
      await arrived('complete', '1');
      expect(messages.find((m) => m.id === '1')).toMatchObject({ type: 'next', payload: { data: { segments: [] } } });

      tokenClock.advance((lifetimeSeconds + 1) * 1000);
      socket.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: 'subscription { segmentDefinitionChanged { kind } }' } }));
      await arrived('error', '2');
      expect(messages.find((m) => m.id === '2')?.payload).toMatchObject([
        { message: 'Requests must come through the gateway: the gateway token has expired', extensions: { code: 'UNAUTHENTICATED' } },
      ]);
      expect(messages.filter((m) => m.id === '2').map((m) => m.type)).toEqual(['error']);
      expect(socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      tokenClock.advance(-(lifetimeSeconds + 1) * 1000);
      socket.close();
    }
  });

  it.each(SUBGRAPHS)('%s answers /health without a token, revealing nothing', async (subgraph) => {
    const response = await fetch(new URL('/health', all.services[subgraph].url));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', service: subgraph });
  });

  it.each(SUBGRAPHS)('%s accepts a valid token', async (subgraph) => {
    const response = await postGraphQL(all.services[subgraph].url, `{ _service { sdl } }`, {}, { sandbox: SANDBOX, role: 'viewer' });
    expect(response.status).toBe(200);
    expect(response.data?._service.sdl).toContain('@key');
  });
});
