/**
 * A destination's config can neither hold secrets that every viewer would read
 * nor point the platform at addresses it must not call: secrets are recognised
 * by value as well as by name, and URLs are judged when stored and again before
 * every request a connector sends (after DNS, on every address).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress, refusedDestination, refusedHost, type Lookup } from '../../lib/connectors/addressPolicy.js';
import { createConnector } from '../../subgraphs/destination/connectors/createConnector.js';
import { ADDRESS_REFUSED, guardedFetch } from '../../lib/connectors/guardedFetch.js';
import { findSecretInConfig, REDACTED } from '../../subgraphs/destination/configSecrets.js';
import { loadConfig } from '../../lib/config.js';
import { startDestinationSubgraph } from '../../subgraphs/destination/server.js';
import { postGraphQL } from '../subgraphs/support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';
import { batchOf, connectorDeps, fakeClock, person } from './support.js';

const strict = { allowPrivate: false };
const allowing = { allowPrivate: true };

const CREATE = 'mutation ($input: CreateDestinationInput!) { createDestination(input: $input) { id config } }';

/** The SSRF targets of the finding, and the other spellings of the same addresses. */
const METADATA_URLS = [
  'http://[::ffff:169.254.169.254]/',
  'http://metadata.google.internal./computeMetadata/v1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://2852039166/',
  'http://0251.0376.0251.0376/',
  'http://0xa9.0xfe.0xa9.0xfe/',
  'http://[fe80::1]/',
  'http://[fd00:ec2::254]/',
  'http://100.100.100.200/',
];
const PRIVATE_URLS = ['http://127.0.0.1:4001/', 'http://0x7f.1/', 'http://localhost./', 'http://[::1]/', 'http://[::ffff:10.0.0.5]/', 'http://192.168.1.20/', 'http://0/'];

describe('secrets in config, by value as well as by name', () => {
  it('finds each secret of the finding, naming where it is and never what it is', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ headers: { 'X-Api-Key': 'sk_live_51Habc' } }, 'config.headers.X-Api-Key'],
      [{ headers: { 'X-Custom': 'sk_live_51Habc' } }, 'config.headers.X-Custom'],
      [{ pass: 'hunter2' }, 'config.pass'],
      [{ signingKey: 'whsec_123' }, 'config.signingKey'],
      [{ note: 'whsec_123' }, 'config.note'],
      [{ channel: 'xoxb-1234-5678-abcd' }, 'config.channel'],
      [{ headers: { 'X-Hub': 'xoxp-99-88-77' } }, 'config.headers.X-Hub'],
      [{ repo: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }, 'config.repo'],
      [{ aws: { id: 'AKIAIOSFODNN7EXAMPLE' } }, 'config.aws.id'],
      [{ headers: { 'X-Forward': 'Bearer abc.def.ghi123' } }, 'config.headers.X-Forward'],
      [{ claims: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl' }, 'config.claims'],
      [{ headers: { 'X-Seed': 'f3a9c1d27b8e4f60a5d2c9e1b7f34a8d' } }, 'config.headers.X-Seed'],
      [{ headers: { 'X-Id': '9f1c3b7e-5a2d-4e8f-b6c0-d4a7e2f1b385' } }, 'config.headers.X-Id'],
      [{ headers: { 'X-Partner': 'AbC9xY2kLmN8pQ4rStUvWx7z' } }, 'config.headers.X-Partner'],
      [{ url: 'https://hooks.example.com/in?access_token=abc' }, 'config.url'],
      [{ list: [{ value: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' }] }, 'config.list[0].value'],
    ];
    for (const [config, path] of cases) {
      const found = findSecretInConfig(config as never);
      expect(found?.path, JSON.stringify(config)).toBe(path);
      expect(JSON.stringify(found)).not.toMatch(/hunter2|sk_live|whsec_1|xox|ghp_|AKIA|abc\.def|eyJ|f3a9|9f1c|AbC9|access_token=abc|sk_test/);
    }
  });

  it('leaves ordinary settings alone', () => {
    const config = {
      url: 'https://hooks.example.com/cdp?team=growth',
      restUrl: 'https://123-ABC-456.mktorest.com/rest',
      tokenUrl: 'https://login.example.com/oauth/token',
      adAccount: '507404993',
      listIds: [1042, 1043],
      headers: { 'Content-Type': 'application/json', 'X-Region': 'eu-west-1', 'X-Origin': 'eu-west-1.cdp.example.com', 'X-Campaign': 'campaign-2026-03-spring-launch', 'X-Cluster': 'eu-west-1-prod-cluster-01', 'User-Agent': 'cdp/1.4.2 (+https://cdp.example.com)' },
      format: 'CSV',
      directory: '/var/lib/cdp/exports/2026-03',
    };
    expect(findSecretInConfig(config)).toBeUndefined();
  });
});

describe('outbound addresses', () => {
  it('refuses metadata and link-local addresses in every spelling, whatever the policy', () => {
    for (const url of METADATA_URLS) {
      expect(refusedHost(new URL(url), allowing), url).toMatch(/metadata|link-local/);
    }
  });

  it('refuses loopback and private addresses unless private destinations are allowed', () => {
    for (const url of PRIVATE_URLS) {
      expect(refusedHost(new URL(url), strict), url).toMatch(/loopback|private/);
      expect(refusedHost(new URL(url), allowing), url).toBeUndefined();
    }
    expect(refusedHost(new URL('https://api.linkedin.com/rest'), strict)).toBeUndefined();
    expect(classifyAddress('8.8.8.8')).toBe('public');
    expect(classifyAddress('::ffff:8.8.8.8')).toBe('public');
    expect(classifyAddress('2606:4700::1111')).toBe('public');
  });

  it('judges every address a host resolves to', async () => {
    const resolvesTo = (...addresses: string[]): Lookup => async () => addresses.map((address) => ({ address }));
    const url = new URL('https://hooks.example.com/in');
    expect(await refusedDestination(url, strict, resolvesTo('93.184.215.14'))).toBeUndefined();
    expect(await refusedDestination(url, strict, resolvesTo('93.184.215.14', '10.1.2.3'))).toMatch(/private address.*hooks\.example\.com/);
    expect(await refusedDestination(url, allowing, resolvesTo('93.184.215.14', '::ffff:169.254.169.254'))).toMatch(/link-local/);
    expect(await refusedDestination(url, allowing, resolvesTo('10.1.2.3'))).toBeUndefined();
    // A host that does not resolve is left to fail on its own.
    expect(await refusedDestination(url, strict, async () => Promise.reject(new Error('ENOTFOUND')))).toBeUndefined();
  });
});

describe('CDP_ALLOW_PRIVATE_DESTINATIONS', () => {
  const production = { CDP_MODE: 'production', CDP_GATEWAY_SECRET: 'x'.repeat(32), CDP_ENCRYPTION_KEY: 'a'.repeat(64) };

  it('is off in production and on elsewhere unless set, and must be true or false', () => {
    expect(loadConfig(production).security.allowPrivateDestinations).toBe(false);
    expect(loadConfig({ ...production, CDP_ALLOW_PRIVATE_DESTINATIONS: 'true' }).security.allowPrivateDestinations).toBe(true);
    expect(loadConfig({ CDP_MODE: 'development' }).security.allowPrivateDestinations).toBe(true);
    expect(loadConfig({ CDP_MODE: 'test', CDP_ALLOW_PRIVATE_DESTINATIONS: 'false' }).security.allowPrivateDestinations).toBe(false);
    expect(() => loadConfig({ CDP_ALLOW_PRIVATE_DESTINATIONS: 'yes' })).toThrow(/CDP_ALLOW_PRIVATE_DESTINATIONS must be true or false/);
  });
});

describe('the check before each request', () => {
  let server: Server;
  let url: string;
  const received: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a host that resolves to a private address at delivery time, and sends nothing', async () => {
    const calls: string[] = [];
    const spy: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response('{}');
    };
    const rebound = guardedFetch(spy, strict, async () => [{ address: '127.0.0.1' }]);
    await expect(rebound('https://hooks.example.com/in', { method: 'POST' })).rejects.toMatchObject({ code: ADDRESS_REFUSED, retryable: false });
    expect(calls).toEqual([]);
    const fine = guardedFetch(spy, strict, async () => [{ address: '93.184.215.14' }]);
    await fine('https://hooks.example.com/in', { method: 'POST' });
    expect(calls).toEqual(['https://hooks.example.com/in']);
  });

  it("fails a webhook delivery to a loopback receiver in production, permanently, and delivers to it when private destinations are allowed", async () => {
    const deliver = (allowPrivate: boolean) =>
      createConnector(
        { type: 'WEBHOOK', config: { url: `${url}/hook` }, credentials: { signingSecret: 'whsec_test' } },
        connectorDeps(fakeClock(), { addressPolicy: { allowPrivate } }),
      ).deliver(batchOf({ adds: [person('p1', 'ada@example.com')] }));

    const refused = await deliver(false);
    expect(refused.results).toEqual([expect.objectContaining({ memberId: 'p1', status: 'failed', code: ADDRESS_REFUSED, retryable: false })]);
    expect(received).toEqual([]);

    const delivered = await deliver(true);
    expect(delivered.results).toEqual([{ memberId: 'p1', status: 'delivered' }]);
    expect(received).toEqual(['/hook']);
  });
});

describe('createDestination and updateDestination', () => {
  let production: SubgraphSuite;
  let development: SubgraphSuite;

  beforeAll(async () => {
    [production, development] = await Promise.all([
      startSubgraphSuite((options) => startDestinationSubgraph({ ...options, security: { ...options.security, allowPrivateDestinations: false } })),
      startSubgraphSuite((options) => startDestinationSubgraph({ ...options, security: { ...options.security, allowPrivateDestinations: true } })),
    ]);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), development?.stop()]);
  });

  const create = (suite: SubgraphSuite, input: Record<string, unknown>, sandbox = 'safety') => postGraphQL(suite.url, CREATE, { input }, { sandbox });

  it('refuses the config of the finding with a coded error that says to use credentials, and stores nothing', async () => {
    const config = { url: 'https://hooks.example.com/in', headers: { 'X-Api-Key': 'sk_live_51Habc' }, pass: 'hunter2', signingKey: 'whsec_123' };
    for (const [field, only] of [
      ['config.headers.X-Custom', { url: config.url, headers: { 'X-Custom': 'sk_live_51Habc' } }],
      ['config.pass', { url: config.url, pass: 'hunter2' }],
      ['config.signingKey', { url: config.url, signingKey: 'whsec_123' }],
    ] as const) {
      const answer = await create(production, { type: 'WEBHOOK', name: 'Leaky', config: only });
      const error = answer.errors?.[0];
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'SECRET_IN_CONFIG', details: { field } });
      expect(error?.message).toMatch(/send secrets in credentials/);
      expect(JSON.stringify(answer)).not.toMatch(/sk_live|hunter2|whsec_123/);
    }
    const whole = await create(production, { type: 'WEBHOOK', name: 'Leaky', config });
    expect(whole.errors?.[0]?.extensions).toMatchObject({ reason: 'SECRET_IN_CONFIG', details: { field: 'config.headers.X-Api-Key' } });
    expect(await production.databases.sandbox('safety').collection('destinations').countDocuments()).toBe(0);
  });

  it('refuses metadata and link-local URLs everywhere, and loopback and private ones in production', async () => {
    for (const url of [...METADATA_URLS, ...PRIVATE_URLS]) {
      const answer = await create(production, { type: 'WEBHOOK', name: 'Hook', config: { url } });
      expect(answer.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DESTINATION_ADDRESS_REFUSED', details: { field: 'config.url' } });
    }
    const marketo = await create(production, { type: 'MARKETO', name: 'Mkto', config: { restUrl: 'http://10.0.0.7/rest', identityUrl: 'https://123-abc-456.mktorest.com/identity' } });
    expect(marketo.errors?.[0]?.extensions).toMatchObject({ reason: 'DESTINATION_ADDRESS_REFUSED', details: { field: 'config.restUrl' } });
    expect(await production.databases.sandbox('safety').collection('destinations').countDocuments()).toBe(0);

    for (const url of METADATA_URLS) {
      const answer = await create(development, { type: 'WEBHOOK', name: 'Hook', config: { url } });
      expect(answer.errors?.[0]?.extensions, url).toMatchObject({ reason: 'DESTINATION_ADDRESS_REFUSED' });
    }
    const local = await create(development, { type: 'WEBHOOK', name: 'Local mock', config: { url: 'http://127.0.0.1:4001/hook' } });
    expect(local.errors).toBeUndefined();
    expect(local.data?.createDestination.config).toEqual({ url: 'http://127.0.0.1:4001/hook' });
  });

  it('checks a new config on update the same way', async () => {
    const created = await create(production, { type: 'WEBHOOK', name: 'Hook', config: { url: 'https://hooks.example.com/in' } }, 'updates');
    const id: string = created.data?.createDestination.id;
    const update = 'mutation ($id: ID!, $input: UpdateDestinationInput!) { updateDestination(id: $id, input: $input) { id } }';
    const toMetadata = await postGraphQL(production.url, update, { id, input: { config: { url: 'http://[::ffff:169.254.169.254]/' } } }, { sandbox: 'updates' });
    expect(toMetadata.errors?.[0]?.extensions).toMatchObject({ reason: 'DESTINATION_ADDRESS_REFUSED' });
    const withSecret = await postGraphQL(production.url, update, { id, input: { config: { url: 'https://hooks.example.com/in', note: 'whsec_123' } } }, { sandbox: 'updates' });
    expect(withSecret.errors?.[0]?.extensions).toMatchObject({ reason: 'SECRET_IN_CONFIG' });
  });

  it('shows a secret stored in config before these checks as redacted', async () => {
    await production.databases.sandbox('legacy').collection('destinations').insertOne({
      _id: 'dst_legacy' as never,
      type: 'WEBHOOK',
      name: 'Old',
      config: { url: 'https://hooks.example.com/in', headers: { 'X-Custom': 'sk_live_51Habc' }, signingKey: 'whsec_123' },
      credentialsUpdatedAt: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    const answer = await postGraphQL(production.url, 'query { destination(id: "dst_legacy") { config } }', {}, { sandbox: 'legacy', role: 'viewer' });
    expect(answer.data?.destination.config).toEqual({ url: 'https://hooks.example.com/in', headers: { 'X-Custom': REDACTED }, signingKey: REDACTED });
  });
});
