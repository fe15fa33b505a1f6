/**
 * The gateway's edge under abuse, through its real HTTP and websocket
 * endpoints: bodies bounded and scanned before any GraphQL work (chunked or
 * not), a cost limit that sees variables and defaults on both transports,
 * limit errors that say what they are, malformed bodies never echoed, and
 * in-flight requests capped per key.
 */
import { request } from 'node:http';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, eventually } from '../../gateway/support/wsClient.js';
import { startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { uniqueName } from '../../support/mongo.js';

const codes = (json: any): string[] => (json.errors ?? []).map((e: any) => e.extensions?.code);

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) as any };
}

/** Sends `parts` as a chunked body (no Content-Length). */
function postChunked(url: string, parts: string[], headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const part of parts) req.write(part);
    req.end();
  });
}

const NESTED = (first: string) =>
  `accounts${first} { edges { node { people${first} { person { accounts { account { people${first} { personKey } } } } } } } }`;

/** Requests that reach the runtime, and a gate that holds the ones marked `x-hold` until opened. */
function observer() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const state = { requests: 0, held: 0, open: () => open() };
  const plugin: GatewayPlugin = {
    onRequest() {
      state.requests++;
    },
    async onExecute({ args }) {
      const headers = (args.contextValue as { request?: Request }).request?.headers;
      if (headers?.get('x-hold') !== '1') return;
      state.held++;
      await gate;
    },
  };
  return { state, plugin };
}

describe('gateway edge limits', () => {
  let platform: TestPlatform;
  let key: string;
  const seen = observer();
  const sandbox = uniqueName('edge-');

  beforeAll(async () => {
    platform = await startTestPlatform({
      env: { CDP_MAX_IN_FLIGHT_PER_KEY: '2', CDP_MAX_BODY_BYTES: String(3 * 1024 * 1024) },
      gatewayPlugins: [seen.plugin],
    });
    key = await platform.keyFor(sandbox);
  });
  afterAll(() => platform?.stop());

  it('refuses a 690,000-element list variable before the runtime sees the request', async () => {
    const ids = `[${Array.from({ length: 690_000 }, () => '1').join(',')}]`;
    const body = `{"query":"query ($ids: [ID!]!) { profiles(first: 1) { edges { node { id } } } }","variables":{"ids":${ids}}}`;
    expect(body.length).toBeGreaterThan(1_300_000);
    const before = seen.state.requests;
    const answer = await post(platform.gatewayUrl, body, { authorization: `Bearer ${key}` });
    expect(answer.status).toBe(413);
    expect(codes(answer.json)).toEqual(['LIMIT_EXCEEDED']);
    expect(answer.json.errors[0].extensions.details).toEqual({ maxListLength: 10_000 });
    expect(seen.state.requests).toBe(before);
  });

  it('accepts a chunked body within the limit and refuses one past it with 413', async () => {
    const small = await postChunked(platform.gatewayUrl, ['{"query": "{ profiles(first: 1) ', '{ edges { node { id } } } }"}'], { authorization: `Bearer ${key}` });
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body)).toEqual({ data: { profiles: { edges: [] } } });

    const chunk = `# ${'x'.repeat(64 * 1024)}\\n`;
    const big = await postChunked(platform.gatewayUrl, ['{"query": "', ...Array.from({ length: 60 }, () => chunk), '{ __typename }"}'], {
      authorization: `Bearer ${key}`,
    });
    expect(big.status).toBe(413);
    expect(codes(JSON.parse(big.body))).toEqual(['LIMIT_EXCEEDED']);
  });

  it('answers a malformed JSON body without quoting it', async () => {
    const secret = 'ada.lovelace@engines.example';
    const answer = await post(platform.gatewayUrl, `{"query": "{ profiles { id } }", "variables": {"email": "${secret}"`, { authorization: `Bearer ${key}` });
    expect(answer.status).toBe(400);
    expect(codes(answer.json)).toEqual(['BAD_REQUEST']);
    expect(answer.text).not.toContain(secret);
    expect(answer.text).not.toContain('originalError');
  });

  it('calls a document too deep a limit error, not a syntax error', async () => {
    const deep = await platform.query(
      '{ accounts { edges { node { people { person { accounts { account { people { person { accounts { account { people { personKey } } } } } } } } } } } } }',
      {},
      { sandbox },
    );
    expect(codes(deep)).toEqual(['LIMIT_EXCEEDED']);
    expect(deep.errors?.[0]?.message).toMatch(/^Query depth limit of 12 exceeded/);
  });

  it('counts first given as a variable or left to its default, on HTTP and websockets', async () => {
    const byVariable = await platform.query(`query ($n: Int) { ${NESTED('(first: $n)')} }`, { n: 100 }, { sandbox });
    expect(codes(byVariable)).toEqual(['LIMIT_EXCEEDED']);
    expect(byVariable.errors?.[0]?.message).toMatch(/^Query cost limit of 50000 exceeded/);
    const byDefault = await platform.query(`{ ${NESTED('')} }`, {}, { sandbox });
    expect(codes(byDefault)).toEqual(['LIMIT_EXCEEDED']);
    // One such query with n = 6 is within the limit; 25 aliases of it are not.
    const single = await platform.query(`query ($n: Int) { ${NESTED('(first: $n)')} }`, { n: 6 }, { sandbox });
    expect(single.errors).toBeUndefined();
    const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: ${NESTED('(first: $n)')}`).join(' ');
    const aliased = await platform.query(`query ($n: Int) { ${aliases} }`, { n: 6 }, { sandbox });
    expect(codes(aliased)).toEqual(['LIMIT_EXCEEDED']);

    const overWs = subscribe(platform.wsUrl, `query ($n: Int) { ${NESTED('(first: $n)')} }`, {
      variables: { n: 100 },
      connectionParams: await platform.connectionParams(sandbox),
    });
    try {
      await eventually(() => overWs.errors.length > 0, 10_000, 'the costly operation to be refused');
      expect(JSON.stringify(overWs.errors[0])).toContain('LIMIT_EXCEEDED');
    } finally {
      await overWs.close();
    }
  });

  it('caps the requests one key has in flight, and frees the slots when they answer', async () => {
    const query = JSON.stringify({ query: '{ profiles(first: 1) { edges { node { id } } } }' });
    const auth = { authorization: `Bearer ${key}` };
    const held = [post(platform.gatewayUrl, query, { ...auth, 'x-hold': '1' }), post(platform.gatewayUrl, query, { ...auth, 'x-hold': '1' })];
    await expect.poll(() => seen.state.held).toBe(2);

    const third = await post(platform.gatewayUrl, query, auth);
    expect(third.status).toBe(429);
    expect(codes(third.json)).toEqual(['RATE_LIMITED']);
    expect(third.headers.get('retry-after')).toBe('1');
    const otherKey = await post(platform.gatewayUrl, query, { authorization: `Bearer ${await platform.keyFor(sandbox, 'viewer')}` });
    expect(otherKey.status).toBe(200);

    seen.state.open();
    expect((await Promise.all(held)).map((answer) => answer.status)).toEqual([200, 200]);
    expect((await post(platform.gatewayUrl, query, auth)).status).toBe(200);
  });
});
