/**
 * Sources benchmark, in one run:
 *   1. full loads from a Marketo instance (100,000 leads, 200,000 activities:
 *      Bulk Extract) and a Salesforce org (20,000 accounts, 100,000 contacts: Bulk
 *      API 2.0 query jobs), served by the benchmark's mocks (bench/sources/), in
 *      rows/s from `createSource` to the first sync's success, against the file
 *      import of the same rows (the export-file fixtures) measured in the same run
 *      (goal: at least 0.8x). Sources and files write to two sandboxes, so each
 *      starts from empty ones;
 *   2. the latency from a lead changed in the Marketo mock to the changed profile,
 *      with the source's incremental sync every minute (the default schedule).
 *
 * The platform runs in this process, each file import's worker and the sources'
 * worker in child processes, and the mocks in one of their own (making 300,000
 * rows and their export files is not the platform's work); MongoDB is MONGODB_URI
 * or devdb in a child process.
 *
 *   npm run bench -- sources
 *   BENCH_SCALE=0.05 npm run bench -- sources     (BENCH_LATENCY_SAMPLES=2 by default)
 *
 * Prints a table and writes bench/results/sources.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { createGraphQLCall, type GraphQLCall } from '../lib/graphqlClient.js';
import { MUNCHKIN, ORG } from '../lib/fixtures/exportFiles.js';
import type { RunningPlatform } from '../platform/startPlatform.js';
import { measureImport, writeCsv, type ImportSpec } from './ingest/fileImport.js';
import { startMockSourcesChild } from './sources/mockChild.js';
import { sourceSpecs } from './sources/specs.js';
import { startBenchPlatform } from './support/benchPlatform.js';
import { startWorkerChild, stopChild } from './support/processes.js';
import { dropBenchDatabases, machine, mongoSetting, writeResults } from './support/results.js';

const DB_PREFIX = 'benchsources_';
const SOURCES_SANDBOX = 'sources';
const DAY = 86_400_000;

export async function run() {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  const latencySamples = Number(process.env.BENCH_LATENCY_SAMPLES ?? 2);
  const specs = sourceSpecs(scale);
  const marketoSpecs: ImportSpec[] = [specs.marketo.leads, specs.marketo.activities];
  const salesforceSpecs: ImportSpec[] = [specs.salesforce.Account, specs.salesforce.Contact];

  const workDir = await mkdtemp(join(tmpdir(), 'cdp-bench-sources-'));
  const children: ChildProcess[] = [];
  const encryptionKey = randomBytes(32).toString('hex');
  let platform: RunningPlatform | undefined;
  let client: MongoClient | undefined;
  const closers: Array<() => Promise<void>> = [];
  try {
    const started = await startBenchPlatform({ dbPrefix: DB_PREFIX, children, env: { CDP_ENCRYPTION_KEY: encryptionKey } });
    platform = started.platform;
    const workerEnv = {
      MONGODB_URI: started.mongoUri,
      CDP_DB_PREFIX: DB_PREFIX,
      CDP_GATEWAY_SECRET: started.gatewaySecret,
      CDP_ENCRYPTION_KEY: encryptionKey,
      CDP_LOG_LEVEL: process.env.BENCH_LOG ?? 'silent',
      ...Object.fromEntries(Object.entries(platform.subgraphs).map(([name, service]) => [`${name.toUpperCase()}_URL`, service.url])),
    };
    const fileCall = createGraphQLCall(platform.gateway.url, { headers: { authorization: `Bearer ${platform.generatedAdminKey!}` } });
    const { generatedKey } = await platform.tenancy.bootstrap(SOURCES_SANDBOX);
    const sourceCall = createGraphQLCall(platform.gateway.url, { headers: { authorization: `Bearer ${generatedKey!}`, 'x-sandbox': SOURCES_SANDBOX } });
    client = new MongoClient(started.mongoUri);
    await client.connect();

    console.log(`File imports (scale ${scale})...`);
    const files: Array<{ name: string; rows: number; seconds: number }> = [];
    for (const spec of [...marketoSpecs, ...salesforceSpecs]) {
      const file = await writeCsv(workDir, spec);
      const worker = startWorkerChild(workerEnv);
      await worker.ready;
      console.log(`  ${spec.name}: ${spec.rows} rows`);
      const measured = await measureImport(fileCall, spec, file, worker.child);
      files.push({ name: spec.name, rows: spec.rows, seconds: measured.seconds });
    }

    const createdAt = new Date(Date.now() - 2 * DAY);
    const mocks = await startMockSourcesChild(scale, createdAt);
    closers.push(() => mocks.close());
    const { marketo, salesforce } = mocks;
    const worker = startWorkerChild(workerEnv);
    children.push(worker.child);
    await worker.ready;

    console.log('Source full loads...');
    const marketoLoad = await fullLoad(sourceCall, {
      type: 'MARKETO',
      name: 'bench marketo',
      config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl, instanceId: MUNCHKIN, backfillFrom: new Date(createdAt.getTime() - DAY).toISOString() },
      credentials: { clientId: 'bench', clientSecret: 'bench' },
    });
    const salesforceLoad = await fullLoad(sourceCall, {
      type: 'SALESFORCE',
      name: 'bench salesforce',
      config: { instanceUrl: salesforce.url, loginUrl: salesforce.url, orgId: ORG },
      credentials: { clientId: 'bench', clientSecret: 'bench' },
    });

    console.log(`Change -> profile latency, ${latencySamples} samples on a one-minute schedule...`);
    const latencies: number[] = [];
    for (let sample = 0; sample < latencySamples; sample++) {
      const leadId = String(1000 + sample);
      const firstName = `Changed${sample}-${Date.now()}`;
      const changedAt = performance.now();
      await mocks.changeLead(leadId, { firstName });
      for (;;) {
        const { profileByIdentity } = await sourceCall<{ profileByIdentity: { firstName: string | null } | null }>(
          `query($value: String!) { profileByIdentity(namespace: "b2b_person", value: $value) { firstName } }`,
          { value: `${leadId}@${MUNCHKIN}.Marketo` },
        );
        if (profileByIdentity?.firstName === firstName) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      latencies.push(round((performance.now() - changedAt) / 1000));
    }

    const fileRate = (names: readonly ImportSpec[]) => {
      const picked = files.filter((f) => names.some((spec) => spec.name === f.name));
      return Math.round(picked.reduce((s, f) => s + f.rows, 0) / picked.reduce((s, f) => s + f.seconds, 0));
    };
    const rows = [
      { source: 'Marketo (leads + activities)', rows: marketoLoad.rows, 'source s': marketoLoad.seconds, 'source rows/s': marketoLoad.rowsPerSecond, 'file rows/s': fileRate(marketoSpecs) },
      { source: 'Salesforce (accounts + contacts)', rows: salesforceLoad.rows, 'source s': salesforceLoad.seconds, 'source rows/s': salesforceLoad.rowsPerSecond, 'file rows/s': fileRate(salesforceSpecs) },
    ].map((row) => ({ ...row, 'source / file': round(row['source rows/s'] / row['file rows/s']) }));
    console.table(rows);
    const calls = await mocks.state();
    console.log(
      `Full loads: ${rows.map((r) => `${r.source} ${r['source / file']}x the file import`).join('; ')} (goal >= 0.8x). ` +
        `Change -> profile with a one-minute schedule: ${latencies.join(' s, ')} s. ` +
        `Marketo calls: ${calls.marketo.calls} (${calls.marketo.overLimit} beyond 100 per 20 s); Salesforce calls: ${calls.salesforce.calls}.`,
    );
    const path = await writeResults('sources', {
      benchmark: 'sources',
      date: new Date().toISOString(),
      machine: machine(),
      settings: { scale, mongo: mongoSetting(), latencySamples },
      files,
      fullLoads: rows,
      latencySeconds: latencies,
      marketoCalls: calls.marketo,
      salesforceCalls: calls.salesforce,
    });
    console.log(`Wrote ${path}`);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    if (client) {
      await dropBenchDatabases(client, DB_PREFIX).catch(() => undefined);
      await client.close();
    }
    await platform?.stop();
    for (const child of children) await stopChild(child);
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Creates the source (its first sync, a full load, starts at once) and times it from the call to the full
 * load's end as the run recorded it (the scheduled increment may follow at once, so `lastSync` is not it).
 */
async function fullLoad(call: GraphQLCall, input: Record<string, unknown>) {
  const started = Date.now();
  const { createSource } = await call<{ createSource: { id: string } }>(`mutation($input: CreateSourceInput!) { createSource(input: $input) { id } }`, { input });
  for (;;) {
    const { source } = await call<{ source: { syncs: Array<{ mode: string; status: string; finishedAt: string | null; rowsWritten: number; rowsRejected: number; failure: { message: string } | null }> } }>(
      `query($id: ID!) { source(id: $id) { syncs(first: 100) { mode status finishedAt rowsWritten rowsRejected failure { message } } } }`,
      { id: createSource.id },
    );
    const sync = source.syncs.find((run) => run.mode === 'FULL');
    if (sync?.status === 'FAILED') throw new Error(`The ${String(input.type)} full load failed: ${sync.failure?.message}`);
    if (sync?.status === 'SUCCEEDED') {
      const seconds = (Date.parse(sync.finishedAt!) - started) / 1000;
      const rows = sync.rowsWritten + sync.rowsRejected;
      return { rows, seconds: round(seconds), rowsPerSecond: Math.round(rows / seconds), rejected: sync.rowsRejected };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
