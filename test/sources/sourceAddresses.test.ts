/**
 * A source's URLs cannot point the platform where it must not call: a metadata
 * service never, a loopback or private address only where private addresses are
 * allowed (CDP_ALLOW_PRIVATE_DESTINATIONS, the destinations' setting). URLs are
 * judged when a source is stored, and every request of a sync is judged again
 * after DNS, so a host that resolved publicly when stored cannot reach a
 * metadata service later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lookup } from '../../lib/connectors/addressPolicy.js';
import { unlimitedBudget } from '../../lib/connectors/callBudget.js';
import { SOURCE_ADDRESS_REFUSED } from '../../lib/connectors/guardedFetch.js';
import { createCredentialsVault } from '../../lib/crypto/credentialsVault.js';
import { silentLogger } from '../../lib/logger.js';
import { createIdGenerator } from '../../lib/subgraph/ids.js';
import type { SourceConnectorDeps } from '../../subgraphs/profile/sources/connectors/sourceConnector.js';
import { openSourceConnector } from '../../subgraphs/profile/sources/openSourceConnector.js';
import { runSync } from '../../subgraphs/profile/sources/runSync.js';
import { SourceRunsRepository, SourcesRepository, SourcesService } from '../../subgraphs/profile/sources/index.js';
import { startProfileSubgraph } from '../../subgraphs/profile/server.js';
import { TEST_SECURITY } from '../subgraphs/support/security.js';
import { postGraphQL } from '../subgraphs/support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';

const CREATE = 'mutation ($input: CreateSourceInput!) { createSource(input: $input) { id config } }';
const UPDATE = 'mutation ($id: ID!, $input: UpdateSourceInput!) { updateSource(id: $id, input: $input) { id config } }';
const CREDENTIALS = { clientId: 'client', clientSecret: 'secret' };

const marketo = (restUrl: string, identityUrl = 'https://123-abc-456.mktorest.com/identity') => ({
  type: 'MARKETO',
  name: 'Marketo',
  config: { restUrl, identityUrl, instanceId: '123-ABC-456' },
  credentials: CREDENTIALS,
});
const salesforce = (loginUrl: string) => ({
  type: 'SALESFORCE',
  name: 'Salesforce',
  config: { instanceUrl: 'https://acme.my.salesforce.com', loginUrl, orgId: '00D000000000001' },
  credentials: CREDENTIALS,
});

describe('createSource and updateSource', () => {
  let production: SubgraphSuite;
  let development: SubgraphSuite;

  beforeAll(async () => {
    [production, development] = await Promise.all([
      startSubgraphSuite((options) => startProfileSubgraph({ ...options, security: { ...options.security, allowPrivateDestinations: false } })),
      startSubgraphSuite((options) => startProfileSubgraph({ ...options, security: { ...options.security, allowPrivateDestinations: true } })),
    ]);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), development?.stop()]);
  });

  const create = (suite: SubgraphSuite, input: Record<string, unknown>, sandbox = 'addresses') => postGraphQL(suite.url, CREATE, { input }, { sandbox });
  const stored = (suite: SubgraphSuite, sandbox = 'addresses') => suite.databases.sandbox(sandbox).collection('sources').countDocuments();

  it('refuses a source at a metadata address wherever it runs, naming the field, and stores nothing', async () => {
    for (const suite of [production, development]) {
      for (const input of [
        marketo('http://169.254.169.254/rest'),
        marketo('https://123-abc-456.mktorest.com/rest', 'http://[::ffff:169.254.169.254]/identity'),
        salesforce('http://metadata.google.internal/'),
      ]) {
        const answer = await create(suite, input);
        expect(answer.errors?.[0]?.extensions, JSON.stringify(input.config)).toMatchObject({ code: 'BAD_USER_INPUT', reason: SOURCE_ADDRESS_REFUSED });
        expect(answer.errors?.[0]?.message).toMatch(/must not point at (a cloud metadata service|a link-local address)/);
      }
      const field = (await create(suite, marketo('http://169.254.169.254/rest'))).errors?.[0]?.extensions?.details;
      expect(field).toEqual({ field: 'config.restUrl' });
      expect(await stored(suite)).toBe(0);
    }
  });

  it('refuses a private or loopback address unless private addresses are allowed', async () => {
    for (const url of ['http://10.0.0.7/rest', 'http://127.0.0.1:4010/rest', 'http://localhost:4010/rest', 'http://[fd12::1]/rest']) {
      const answer = await create(production, marketo(url), 'private');
      expect(answer.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', reason: SOURCE_ADDRESS_REFUSED, details: { field: 'config.restUrl' } });
      expect(answer.errors?.[0]?.message).toMatch(/CDP_ALLOW_PRIVATE_DESTINATIONS=true/);
    }
    expect(await stored(production, 'private')).toBe(0);

    const local = await create(development, marketo('http://127.0.0.1:4010/rest'), 'private');
    expect(local.errors).toBeUndefined();
    expect(local.data?.createSource.config).toMatchObject({ restUrl: 'http://127.0.0.1:4010/rest' });
  });

  it('checks a changed config the same way and keeps the stored one', async () => {
    const created = await create(production, salesforce('https://login.salesforce.com'), 'updates');
    expect(created.errors).toBeUndefined();
    const id: string = created.data?.createSource.id;
    const config = { instanceUrl: 'http://192.168.1.20', loginUrl: 'https://login.salesforce.com', orgId: '00D000000000001' };
    const moved = await postGraphQL(production.url, UPDATE, { id, input: { config } }, { sandbox: 'updates' });
    expect(moved.errors?.[0]?.extensions).toMatchObject({ reason: SOURCE_ADDRESS_REFUSED, details: { field: 'config.instanceUrl' } });
    const kept = await production.databases.sandbox('updates').collection('sources').findOne({});
    expect(kept?.config).toMatchObject({ instanceUrl: 'https://acme.my.salesforce.com' });
  });
});

describe('a sync', () => {
  let suite: SubgraphSuite;
  beforeAll(async () => {
    suite = await startSubgraphSuite((options) => startProfileSubgraph(options));
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('refuses every request to a host that now resolves to a metadata address: nothing is sent and the source says why, permanently', async () => {
    const sandbox = 'rebinding';
    const db = suite.databases.sandbox(sandbox);
    const sources = new SourcesRepository(db);
    const runs = new SourceRunsRepository(db);
    const sent: string[] = [];
    let resolvesTo = '93.184.215.14';
    const lookup: Lookup = async () => [{ address: resolvesTo }];
    const deps: SourceConnectorDeps = {
      fetch: async (input) => {
        sent.push(String(input));
        return new Response('{}');
      },
      now: () => new Date(),
      sleep: async () => {},
      budget: unlimitedBudget,
      logger: silentLogger,
      addressPolicy: { allowPrivate: true },
      lookup,
    };
    const service = new SourcesService(sources, runs, {
      principal: { sandbox, role: 'admin' },
      now: () => new Date(),
      ids: createIdGenerator(),
      credentials: createCredentialsVault(TEST_SECURITY.encryptionKey),
      encryptionKey: TEST_SECURITY.encryptionKey,
      connectorDeps: deps,
      scheduling: { schedule: async () => {}, runNow: async () => {}, cancel: async () => {} },
    });
    const input = marketo('https://mkto.example.com/rest', 'https://mkto.example.com/identity');
    const source = await service.create({ ...input, type: 'MARKETO' });

    // Stored while the host resolved to a public address; now it answers with the metadata service's.
    resolvesTo = '169.254.169.254';
    const runIds = createIdGenerator();
    const outcome = await runSync(source.id, 'FULL', {
      sources,
      runs,
      client: { send: async () => Promise.reject(new Error('nothing may be written')) },
      connectorFor: (found) => openSourceConnector(found, sources, TEST_SECURITY.encryptionKey, deps),
      logger: silentLogger,
      now: () => new Date(),
      runIds: () => runIds('run'),
    });

    expect(outcome).toMatchObject({ kind: 'ran', run: { status: 'FAILED', failure: { code: SOURCE_ADDRESS_REFUSED } } });
    expect(sent).toEqual([]);
    const after = await sources.findById(source.id);
    expect(after?.failure).toMatchObject({ code: SOURCE_ADDRESS_REFUSED, retryable: false });
    expect(after?.failure?.message).toMatch(/mkto\.example\.com is a link-local address/);
  });
});
