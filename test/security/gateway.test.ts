/**
 * The gateway's side of security, through its real HTTP and websocket
 * endpoints: API keys and roles, the admin API and its audit log, request
 * limits, the per-key rate limit, introspection in production, and errors
 * that never carry internals.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, eventually } from '../gateway/support/wsClient.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { uniqueName } from '../support/mongo.js';
import { recordSubgraphFetches } from '../support/subgraphFetches.js';
import { databaseSnapshot } from '../support/databaseSnapshot.js';

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) as any };
}

const codes = (json: any): string[] => (json.errors ?? []).map((e: any) => e.extensions?.code);

describe('gateway security', () => {
  let platform: TestPlatform;
  let adminUrl: string;
  const sandbox = uniqueName('sec-');
  const subgraphFetches = recordSubgraphFetches();

  /** Runs a request that must be refused at the edge: no subgraph is fetched, nothing written to the sandbox. */
  async function refusedAtTheEdge<T>(send: () => Promise<T>): Promise<T> {
    const before = await databaseSnapshot(platform, sandbox);
    const { result, fetched } = await subgraphFetches.during(send);
    expect(fetched).toEqual([]);
    expect(await databaseSnapshot(platform, sandbox)).toEqual(before);
    return result;
  }

  beforeAll(async () => {
    platform = await startTestPlatform({
      env: { CDP_MAX_QUERY_DEPTH: '6', CDP_MAX_ALIASES: '10', CDP_MAX_QUERY_COST: '200', CDP_MAX_BODY_BYTES: '20000' },
      gatewayPlugins: [subgraphFetches.plugin],
    });
    // The sandbox holds a person, so "nothing written" and "nothing read" have something to miss.
    const seeded = await platform.query('mutation { upsertPeople(people: [{ firstName: "Sam", workEmail: "sam@sec.example" }]) { status } }', {}, { sandbox });
    expect(seeded).toEqual({ data: { upsertPeople: [{ status: 'CREATED' }] } });
    adminUrl = new URL('/admin/graphql', platform.gatewayUrl).toString();
  });

  afterAll(() => platform?.stop());

  describe('authentication', () => {
    it('refuses calls without a valid key, over HTTP and websockets', async () => {
      const query = { query: '{ profiles(first: 1) { edges { node { id } } } }' };
      const keysOf = uniqueName('revoke-');
      const revoked = await platform.keyFor(keysOf, 'viewer');
      // Used once, so the gateway holds the key in its short cache when it is revoked.
      const beforeRevoking = await post(platform.gatewayUrl, query, { authorization: `Bearer ${revoked}` });
      expect(beforeRevoking.status).toBe(200);
      expect(beforeRevoking.json).toEqual({ data: { profiles: { edges: [] } } });
      const admin = await platform.tenancy.authenticate(await platform.keyFor(keysOf));
      const id = (await platform.tenancy.listApiKeys(admin)).find((k) => k.role === 'viewer')!.id;
      await platform.tenancy.revokeApiKey(admin, id);
      // Revocation reaches the gateway through its change stream on API keys, without waiting for the key
      // cache to expire; from then on the key is refused, although the cache held it.
      await expect
        .poll(async () => (await post(platform.gatewayUrl, query, { authorization: `Bearer ${revoked}` })).status, { timeout: 5_000 })
        .toBe(401);

      const attempts: Array<Record<string, string>> = [
        {},
        { authorization: 'Bearer cdpk_not-a-real-key' },
        { authorization: 'Basic YWRtaW4=' },
        { authorization: `Bearer ${revoked}` },
      ];
      for (const headers of attempts) {
        for (const url of [platform.gatewayUrl, adminUrl]) {
          const answer = await refusedAtTheEdge(() => post(url, query, headers));
          expect(answer.status).toBe(401);
          expect(codes(answer.json)).toEqual(['UNAUTHENTICATED']);
          expect(answer.json.data ?? null).toBeNull();
        }
        const ws = subscribe(platform.wsUrl, 'subscription { segmentDefinitionChanged { kind } }', { connectionParams: headers });
        try {
          await eventually(() => ws.errors.length > 0, 5_000, 'the websocket to be refused');
          expect(ws.errors[0]).toMatchObject({ code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED: /) });
        } finally {
          await ws.close();
        }
      }
    }, 30_000);

    it('refuses each role what it may not do, and writes nothing', async () => {
      const editorKey = await platform.keyFor(sandbox, 'editor');
      await platform.keyFor(sandbox, 'viewer');
      const keysBefore = (await platform.tenancy.listApiKeys(await platform.tenancy.authenticate(await platform.keyFor(sandbox)))).map((k) => k.id);
      const before = await databaseSnapshot(platform, sandbox);

      const viewerWrite = await platform.query(
        'mutation { upsertPeople(people: [{ firstName: "Eve", workEmail: "eve@example.com" }]) { status } }',
        {},
        { sandbox, role: 'viewer' },
      );
      expect(codes(viewerWrite)).toEqual(['FORBIDDEN']);
      expect(viewerWrite.data ?? null).toBeNull();

      const editorDestination = await platform.query(
        'mutation { createDestination(input: { type: WEBHOOK, name: "x", config: { url: "https://example.com/h" } }) { id } }',
        {},
        { sandbox, role: 'editor' },
      );
      expect(codes(editorDestination)).toEqual(['FORBIDDEN']);
      expect(editorDestination.data ?? null).toBeNull();

      // Keys are managed by the gateway's admin API itself: refused there, no subgraph involved.
      const editorKeys = await refusedAtTheEdge(() =>
        post(adminUrl, { query: 'mutation { createApiKey(name: "x", role: admin) { key } }' }, { authorization: `Bearer ${editorKey}` }),
      );
      expect(codes(editorKeys.json)).toEqual(['FORBIDDEN']);
      expect(editorKeys.json.data ?? null).toBeNull();

      expect(await databaseSnapshot(platform, sandbox)).toEqual(before);
      const keysAfter = (await platform.tenancy.listApiKeys(await platform.tenancy.authenticate(await platform.keyFor(sandbox)))).map((k) => k.id);
      expect(keysAfter).toEqual(keysBefore);

      // The same keys are not refused everything: the refusals above are about the role.
      const viewerRead = await platform.query('{ profiles(first: 5) { edges { node { workEmail } } } }', {}, { sandbox, role: 'viewer' });
      expect(viewerRead).toEqual({ data: { profiles: { edges: [{ node: { workEmail: 'sam@sec.example' } }] } } });
    });
  });

  describe('admin API and audit log', () => {
    it('creates a sandbox with its own admin key, lists keys without secrets, and audits it all', async () => {
      const parentKey = await platform.keyFor(sandbox);
      const auth = { authorization: `Bearer ${parentKey}` };
      const child = uniqueName('child-');

      // Creating sandboxes is the platform admin's (the default sandbox's bootstrap key); it is audited in its sandbox.
      const platformAuth = { authorization: `Bearer ${await platform.keyFor('default')}` };
      const created = await post(adminUrl, { query: `mutation { createSandbox(name: "${child}") { sandbox { name } adminKey { key apiKey { role sandbox } } } }` }, platformAuth);
      expect(created.json.errors).toBeUndefined();
      const childKey: string = created.json.data.createSandbox.adminKey.key;
      expect(created.json.data.createSandbox.adminKey.apiKey).toEqual({ role: 'admin', sandbox: child });

      const me = await post(adminUrl, { query: '{ me { sandbox role } }' }, { authorization: `Bearer ${childKey}` });
      expect(me.json.data.me).toEqual({ sandbox: child, role: 'admin' });

      const newKey = await post(adminUrl, { query: 'mutation { createApiKey(name: "ci", role: editor) { key apiKey { id hint } } }' }, auth);
      const { key, apiKey } = newKey.json.data.createApiKey;
      const listed = await post(adminUrl, { query: '{ apiKeys { id name role hint lastUsedAt revokedAt } }' }, auth);
      expect(listed.text).not.toContain(key);
      expect(listed.json.data.apiKeys.map((k: any) => k.id)).toContain(apiKey.id);

      const destination = await platform.query(
        'mutation { createDestination(input: { type: WEBHOOK, name: "Audited", config: { url: "https://example.com/hook" }, credentials: { secret: "hush-hush" } }) { id hasCredentials } }',
        {},
        { sandbox },
      );
      expect(JSON.stringify(destination)).not.toContain('hush-hush');
      const destinationId: string = destination.data.createDestination.id;
      // Wrapped in a root fragment, an admin action is still recorded.
      await platform.query('mutation ($id: ID!) { ... on Mutation { deleteDestination(id: $id) } }', { id: destinationId }, { sandbox });

      await eventually(async () => {
        const log = await post(adminUrl, { query: '{ auditLog(first: 10) { action target actorRole actorKeyId at } }' }, auth);
        const actions = log.json.data.auditLog.map((e: any) => `${e.action} ${e.target}`);
        return (
          actions.includes(`destination.delete destination:${destinationId}`) &&
          actions.includes(`destination.create destination:${destinationId}`) &&
          actions.includes(`apiKey.create apiKey:${apiKey.id}`)
        );
      }, 5_000, 'the audit log to list every admin action');
      const platformLog = await post(adminUrl, { query: '{ auditLog(first: 10) { action target } }' }, platformAuth);
      expect(platformLog.json.data.auditLog).toContainEqual({ action: 'sandbox.create', target: `sandbox:${child}` });

      const childLog = await post(adminUrl, { query: '{ auditLog { action } }' }, { authorization: `Bearer ${childKey}` });
      expect(childLog.json.data.auditLog).toEqual([]);
    });
  });

  describe('request limits', () => {
    it('refuses documents that are too deep, alias too much, or cost too much, before any subgraph is called', async () => {
      await platform.keyFor(sandbox);
      const deep = await refusedAtTheEdge(() =>
        platform.query('{ profiles { edges { node { accounts { account { people { person { accounts { account { name } } } } } } } } } }', {}, { sandbox }),
      );
      expect(codes(deep)).toEqual(['LIMIT_EXCEEDED']);
      expect(deep.errors?.[0]?.message).toMatch(/depth limit of 6/);
      expect(deep.data ?? null).toBeNull();

      const aliases = Array.from({ length: 11 }, (_, i) => `a${i}: profile(id: "x") { id }`).join(' ');
      const aliased = await refusedAtTheEdge(() => platform.query(`{ ${aliases} }`, {}, { sandbox }));
      expect(codes(aliased)).toEqual(['LIMIT_EXCEEDED']);
      expect(aliased.data ?? null).toBeNull();

      const costly = await refusedAtTheEdge(() =>
        platform.query(`{ ${Array.from({ length: 9 }, (_, i) => `p${i}: profiles(first: 50) { edges { node { id firstName lastName jobTitle workEmail accounts { account { name domain industry } } } } }`).join(' ')} }`, {}, { sandbox }),
      );
      expect(codes(costly)).toEqual(['LIMIT_EXCEEDED']);
      expect(costly.data ?? null).toBeNull();

      // Just under every limit, the same kind of document is answered.
      const allowed = await platform.query(`{ ${Array.from({ length: 10 }, (_, i) => `a${i}: profiles(first: 1) { edges { node { workEmail } } }`).join(' ')} }`, {}, { sandbox });
      expect(allowed.errors).toBeUndefined();
      expect(allowed.data?.a9).toEqual({ edges: [{ node: { workEmail: 'sam@sec.example' } }] });
    });

    it('refuses an oversize body with 413 and accepts a small body without a length', async () => {
      const key = await platform.keyFor(sandbox);
      const big = await refusedAtTheEdge(() =>
        post(platform.gatewayUrl, { query: `{ profiles { edges { node { id } } } } # ${'x'.repeat(30_000)}` }, { authorization: `Bearer ${key}` }),
      );
      expect(big.status).toBe(413);
      expect(codes(big.json)).toEqual(['LIMIT_EXCEEDED']);
      expect(big.json.data ?? null).toBeNull();

      // A chunked body has no declared length: it is read up to the same limit.
      const chunked = await refusedAtTheEdge(() => new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(platform.gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write('{"query": "{ profiles { id } }"');
        req.end('}');
      }));
      expect(chunked.status).toBe(200);
      expect(codes(JSON.parse(chunked.body))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    });

    it('bounds websocket messages like request bodies', async () => {
      const huge = subscribe(platform.wsUrl, `subscription { segmentDefinitionChanged { kind } } # ${'x'.repeat(30_000)}`, {
        connectionParams: await platform.connectionParams(sandbox),
      });
      try {
        await eventually(() => huge.errors.length > 0, 5_000, 'the oversize message to close the socket');
        expect((huge.errors[0] as { code?: number }).code).toBe(1009);
      } finally {
        await huge.close();
      }
    });

    it('asks for a key on a GET that executes an operation, whatever it accepts', async () => {
      const url = new URL(platform.gatewayUrl);
      url.searchParams.set('query', '{ profiles(first: 1) { edges { node { id } } } }');
      const response = await refusedAtTheEdge(() => fetch(url, { headers: { accept: 'text/html, application/json' } }));
      expect(response.status).toBe(401);
      expect(codes(await response.json())).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('errors', () => {
    it('never sends a stack trace or internals', async () => {
      const key = await platform.keyFor(sandbox);
      const broken = await refusedAtTheEdge(() => post(platform.gatewayUrl, '{"query": "{ profiles { ', { authorization: `Bearer ${key}` }));
      expect(broken.status).toBe(400);
      expect(codes(broken.json)).toEqual(['BAD_REQUEST']);
      expect(broken.json.data ?? null).toBeNull();
      expect(broken.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(broken.text).not.toMatch(/stack/i);
    });
  });
});

/**
 * The budget is per clock-aligned minute (lib/tenancy/rateLimiter.ts): calls that straddle a minute's
 * end would draw on two budgets. Starts with enough of the minute left for a test's calls to share one.
 */
async function withinOneRateWindow(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await sleep(left + 100);
}

describe('per-key rate limit', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ env: { CDP_RATE_LIMIT_PER_MINUTE: '5' } });
  });
  afterAll(() => platform?.stop());

  it('answers 429 with Retry-After once a key has used its budget, and counts keys apart', async () => {
    const sandbox = uniqueName('rate-');
    const key = await platform.keyFor(sandbox);
    const other = await platform.keyFor(sandbox, 'viewer');
    const call = (k: string) => post(platform.gatewayUrl, { query: '{ profiles(first: 1) { edges { node { id } } } }' }, { authorization: `Bearer ${k}` });
    await withinOneRateWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(key)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);

    const refused = await call(key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(codes(refused.json)).toEqual(['RATE_LIMITED']);

    expect((await call(other)).status).toBe(200);

    // The admin API draws on the same budget.
    const admin = await post(new URL('/admin/graphql', platform.gatewayUrl).toString(), { query: '{ me { role } }' }, { authorization: `Bearer ${key}` });
    expect(admin.status).toBe(429);
    expect(codes(admin.json)).toEqual(['RATE_LIMITED']);
  });

  it('charges every operation on a websocket, not only the connection', async () => {
    const key = await platform.keyFor(uniqueName('ratews-'));
    await withinOneRateWindow();
    // One connection for every operation (a lazy client would reconnect, and pay for connecting, each time).
    const client = createClient({ url: platform.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0, lazy: false });
    const codesSeen: string[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        await new Promise<void>((resolve) => {
          client.subscribe(
            { query: '{ profiles(first: 1) { edges { node { id } } } }' },
            {
              next: () => codesSeen.push('ok'),
              error: (errors) => {
                codesSeen.push(...(errors as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code ?? 'error'));
                resolve();
              },
              complete: resolve,
            },
          );
        });
      }
    } finally {
      await client.dispose();
    }
    // One point for the connection, four operations, then the key is over its budget of five.
    expect(codesSeen).toEqual(['ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
  });
});

describe('production mode', () => {
  let platform: TestPlatform;
  const subgraphFetches = recordSubgraphFetches();
  beforeAll(async () => {
    platform = await startTestPlatform({
      env: {
        CDP_MODE: 'production',
        CDP_GATEWAY_SECRET: 'production-test-secret-0123456789abcdefghij',
        CDP_ENCRYPTION_KEY: '11'.repeat(32),
      },
      gatewayPlugins: [subgraphFetches.plugin],
    });
  });
  afterAll(() => platform?.stop());

  it('does not answer introspection or suggest field names, and asks no subgraph', async () => {
    await platform.keyFor('default');
    const introspection = await subgraphFetches.during(() => platform.query('{ __schema { types { name } } }'));
    expect(introspection.fetched).toEqual([]);
    expect(introspection.result.data ?? null).toBeNull();
    expect(introspection.result.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['GRAPHQL_VALIDATION_FAILED', 'GraphQL introspection has been disabled, but the requested query contained the field "__schema".'],
      ['GRAPHQL_VALIDATION_FAILED', 'GraphQL introspection has been disabled, but the requested query contained the field "types".'],
    ]);

    const typo = await subgraphFetches.during(() => platform.query('{ profilez(first: 1) { id } }'));
    expect(typo.fetched).toEqual([]);
    expect(typo.result.data ?? null).toBeNull();
    expect(codes(typo.result)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(typo.result.errors?.[0]?.message).toMatch(/profilez/);
    expect(JSON.stringify(typo.result.errors)).not.toMatch(/Did you mean/);

    // The same key is answered a real query, so the refusals above are about introspection and the typo.
    const real = await platform.query('{ profiles(first: 1) { edges { node { id } } } }');
    expect(real).toEqual({ data: { profiles: { edges: [] } } });
  });
});
