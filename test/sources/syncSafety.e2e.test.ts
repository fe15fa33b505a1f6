/**
 * What keeps source syncs safe, against the mocks and the running platform's
 * subgraphs: a sync killed midway resumes from its last committed page with
 * nothing written twice and exact counts; two workers never sync one source at
 * once; bad credentials are a clear, permanent error on the source; and the
 * sources' API limits are never exceeded.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { MongoClient } from 'mongodb';
import { ApiBudgetRepository } from '../../lib/connectors/apiBudget.repository.js';
import { createSharedBudget } from '../../lib/connectors/sharedBudget.js';
import { silentLogger } from '../../lib/logger.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import { createIdGenerator } from '../../lib/subgraph/ids.js';
import { createIngestionClient, type IngestionClient } from '../../subgraphs/profile/imports/ingestionClient.js';
import type { SourceConnectorDeps } from '../../subgraphs/profile/sources/connectors/sourceConnector.js';
import { openSourceConnector } from '../../subgraphs/profile/sources/openSourceConnector.js';
import { runSync, type SyncDeps } from '../../subgraphs/profile/sources/runSync.js';
import { createCredentialsVault } from '../../lib/crypto/credentialsVault.js';
import { SourceRunsRepository, SourcesRepository, SourcesService } from '../../subgraphs/profile/sources/index.js';
import { startMarketoSourceMock, type MarketoSourceMock } from '../mocks/marketoSourceMock.js';
import { startSalesforceMock } from '../mocks/salesforceMock.js';
import { connectTestClient } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createSource, ENCRYPTION_KEY, GATEWAY_SECRET, nextFinishedSync, PLATFORM_ENV, profileOf, readSource, syncNow } from './support.js';

const DAY = 86_400_000;
let platform: TestPlatform;
let client: MongoClient;
let marketo: MarketoSourceMock;

beforeAll(async () => {
  platform = await startTestPlatform({ worker: true, env: PLATFORM_ENV });
  client = await connectTestClient();
  marketo = await startMarketoSourceMock();
});
afterAll(async () => {
  await marketo?.close();
  await client?.close();
  await platform?.stop();
});

/** As a worker makes them: Marketo calls inside the instance budget in MongoDB, which the platform's worker shares. */
const connectorDeps = (overrides: Partial<SourceConnectorDeps> = {}): SourceConnectorDeps => {
  const now = () => new Date();
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  return {
    fetch,
    now,
    sleep,
    budget: createSharedBudget(new ApiBudgetRepository(createDatabases(client, platform.databasePrefix).platform()), { now, sleep }),
    logger: silentLogger,
    bulkPollMs: 5,
    ...overrides,
  };
};

/** A source stored with no job scheduled: the test runs its syncs by hand. */
async function unscheduledSource(sandbox: string, config: Record<string, unknown>, credentials: Record<string, unknown>) {
  const db = createDatabases(client, platform.databasePrefix).sandbox(sandbox);
  const sources = new SourcesRepository(db);
  const runs = new SourceRunsRepository(db);
  const deps = connectorDeps();
  const service = new SourcesService(sources, runs, {
    principal: { sandbox, role: 'admin' },
    now: () => new Date(),
    ids: createIdGenerator(),
    credentials: createCredentialsVault(ENCRYPTION_KEY),
    encryptionKey: ENCRYPTION_KEY,
    connectorDeps: deps,
    scheduling: { schedule: async () => {}, runNow: async () => {}, cancel: async () => {} },
  });
  const source = await service.create({ type: 'MARKETO', name: 'by hand', config: config as never, credentials: credentials as never });
  return { source, sources, runs };
}

function syncDeps(sandbox: string, stores: { sources: SourcesRepository; runs: SourceRunsRepository }, client: IngestionClient, deps: SourceConnectorDeps): SyncDeps {
  const runIds = createIdGenerator();
  return {
    ...stores,
    client,
    connectorFor: (found) => openSourceConnector(found, stores.sources, ENCRYPTION_KEY, deps),
    logger: silentLogger,
    now: () => new Date(),
    runIds: () => runIds('run'),
  };
}

const ingestion = (sandbox: string) =>
  createIngestionClient({
    subgraphUrls: Object.fromEntries(Object.entries(platform.subgraphs).map(([name, service]) => [name, service.url])) as never,
    gatewaySecret: GATEWAY_SECRET,
    principal: { sandbox, role: 'editor' },
  });

describe('a sync killed midway', () => {
  it('resumes from its last committed page: nothing read again before it, nothing written twice, counts exact', { timeout: 120_000 }, async () => {
    const sandbox = 'resume';
    await platform.keyFor(sandbox);
    const munchkin = '444-DDD-444';
    // An instance of its own: leads other tests add to the shared mock would fall in this backfill's window.
    const marketo = await startMarketoSourceMock();
    onTestFinished(() => marketo.close());
    const leads = marketo.addLeads(25, new Date(Date.now() - 2 * DAY));
    for (const lead of leads.slice(0, 5)) marketo.addActivities(lead, 3, new Date(Date.now() - DAY));
    const stores = await unscheduledSource(
      sandbox,
      { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl, instanceId: munchkin, backfillFrom: new Date(Date.now() - 3 * DAY).toISOString() },
      { clientId: marketo.clientId, clientSecret: marketo.clientSecret },
    );
    const deps = connectorDeps({ pageRows: 10 });
    const real = ingestion(sandbox);
    // The worker dies once its third page is written, before that page is committed (pages before it are).
    let sends = 0;
    const dying: IngestionClient = {
      send: async (kind, inputs) => {
        const call = ++sends;
        const results = await real.send(kind, inputs);
        if (call === 3) throw new Error('worker killed');
        return results;
      },
    };
    await expect(runSync(stores.source.id, 'INCREMENTAL', syncDeps(sandbox, stores, dying, deps))).rejects.toThrow('worker killed');
    const killed = await stores.runs.findRunning(stores.source.id);
    expect(killed).toMatchObject({ mode: 'FULL', rowsWritten: 20 });
    const exportsBefore = marketo.callsTo(/export\/create\.json$/).length;

    const outcome = await runSync(stores.source.id, 'INCREMENTAL', syncDeps(sandbox, stores, real, deps));
    expect(outcome).toMatchObject({ kind: 'ran', run: { id: killed!.id, status: 'SUCCEEDED', rowsRead: 25 + 25 + 15, rowsWritten: 65, rowsRejected: 0 } });
    // The leads' export was read from its file again, not made again; only the activities' export is new.
    expect(marketo.callsTo(/export\/create\.json$/).length).toBe(exportsBefore + 1);
    for (const [index, lead] of leads.entries()) {
      const profile = await profileOf(withSandbox(platform, sandbox), `${lead}@${munchkin}.Marketo`);
      // One New Lead event each, and three activities for the first five: none twice.
      expect(profile.events.edges).toHaveLength(index < 5 ? 4 : 1);
    }
  });
});

describe('two workers at once', () => {
  it('never sync one source together: the second finds it leased and leaves', { timeout: 120_000 }, async () => {
    const sandbox = 'lease';
    await platform.keyFor(sandbox);
    const stores = await unscheduledSource(
      sandbox,
      { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl, instanceId: '555-EEE-555', backfillFrom: new Date(Date.now() - DAY).toISOString() },
      { clientId: marketo.clientId, clientSecret: marketo.clientSecret },
    );
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const held: IngestionClient = {
      send: async (kind, inputs) => {
        entered();
        await gate;
        return ingestion(sandbox).send(kind, inputs);
      },
    };
    marketo.addLeads(2, new Date(Date.now() - 60_000));
    const first = runSync(stores.source.id, 'FULL', syncDeps(sandbox, stores, held, connectorDeps()));
    await inside;
    expect(await runSync(stores.source.id, 'FULL', syncDeps(sandbox, stores, ingestion(sandbox), connectorDeps()))).toEqual({ kind: 'busy' });
    release();
    expect(await first).toMatchObject({ kind: 'ran', run: { status: 'SUCCEEDED' } });
  });
});

describe('bad credentials', () => {
  it('are a clear, permanent error on the source, not a retry storm; fixed credentials sync again', { timeout: 120_000 }, async () => {
    const salesforce = await startSalesforceMock();
    try {
      salesforce.addAccount(1);
      const source = await createSource(platform, {
        type: 'SALESFORCE',
        name: 'wrong secret',
        config: { instanceUrl: salesforce.instanceUrl, loginUrl: salesforce.loginUrl, orgId: '00D000000000BAD' },
        credentials: { clientId: salesforce.clientId, clientSecret: 'not-the-secret' },
      });
      const test = await platform.query(`mutation($id: ID!) { testSource(id: $id) { ok code message } }`, { id: source.id });
      expect(test.data.testSource).toMatchObject({ ok: false, code: 'SALESFORCE_INVALID_CLIENT' });
      expect(test.data.testSource.message).toMatch(/client id and secret/);

      const failed = await nextFinishedSync(platform, source.id);
      expect(failed).toMatchObject({ status: 'FAILED', failure: { code: 'SALESFORCE_INVALID_CLIENT' } });
      const blocked = await readSource(platform, source.id);
      expect(blocked).toMatchObject({ failure: { code: 'SALESFORCE_INVALID_CLIENT', retryable: false }, nextAttemptAt: null });
      // The token endpoint was asked once per attempt of that sync, never in a loop.
      expect(salesforce.state.refused.auth).toBeLessThanOrEqual(2);

      const fixed = await platform.query(`mutation($id: ID!, $input: UpdateSourceInput!) { updateSource(id: $id, input: $input) { failure { code } } }`, {
        id: source.id,
        input: { credentials: { clientId: salesforce.clientId, clientSecret: salesforce.clientSecret } },
      });
      expect(fixed.data.updateSource.failure).toBeNull();
      await syncNow(platform, source.id);
      expect(await nextFinishedSync(platform, source.id, failed.id)).toMatchObject({ status: 'SUCCEEDED', mode: 'FULL' });
    } finally {
      await salesforce.close();
    }
  });
});

describe('API limits', () => {
  it('are never exceeded: Marketo calls stay within the instance budget, Salesforce stops short of its daily allowance', { timeout: 120_000 }, async () => {
    // Marketo: the syncs above ran inside the instance budget the platform's workers share; the mock refused nothing.
    expect(marketo.state.refused).toMatchObject({ rate: 0, concurrency: 0, exportLimit: 0, range: 0, batch: 0 });

    const salesforce = await startSalesforceMock({ dailyApiLimit: 60, queryBatchSize: 1 });
    try {
      for (let n = 1; n <= 30; n++) salesforce.addAccount(n);
      const source = await createSource(platform, {
        type: 'SALESFORCE',
        name: 'busy org',
        config: { instanceUrl: salesforce.instanceUrl, loginUrl: salesforce.loginUrl, orgId: '00D000000000LIM', maxApiUsagePercent: 50 },
        credentials: { clientId: salesforce.clientId, clientSecret: salesforce.clientSecret },
      });
      const full = await nextFinishedSync(platform, source.id);
      expect(full.status).toBe('SUCCEEDED');
      for (const [n, id] of [...salesforce.state.objects.Account!.keys()].entries()) salesforce.update('Account', id, { Name: `Renamed ${n}` });
      await syncNow(platform, source.id);
      const stopped = await nextFinishedSync(platform, source.id, full.id);
      expect(stopped).toMatchObject({ status: 'FAILED', failure: { code: 'SALESFORCE_API_BUDGET' } });
      expect((await readSource(platform, source.id)).failure).toMatchObject({ retryable: true });
      // Half the allowance: the call whose answer reported reaching it was the last.
      expect(salesforce.state.apiUsed).toBeLessThanOrEqual(30);
      expect(salesforce.state.refused.limit).toBe(0);
      // What it wrote before stopping is committed: the next sync goes on from there.
      expect(stopped.rowsWritten).toBeGreaterThan(0);
    } finally {
      await salesforce.close();
    }
  });
});

function withSandbox(target: TestPlatform, sandbox: string): TestPlatform {
  return { ...target, query: (query, variables, options) => target.query(query, variables, { sandbox, ...options }) };
}
