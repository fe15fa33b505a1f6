/**
 * Ingestion benchmark, in one run:
 *   1. batch import (the import API, the worker's import job, the subgraphs) of
 *      100,000 Marketo leads, 20,000 Salesforce accounts and 200,000 Marketo
 *      activities, made by the export file fixtures (lib/fixtures) as CSV files, in rows/s, against
 *      two baselines written with the raw driver's `bulkWrite` (upserts by `_id`,
 *      1,000 per call, unordered) into scratch collections:
 *        - the same documents: every document the import stored (for a lead, its
 *          profile and its source fragment), with the same indexes as the import's
 *          collections; what writing the result costs without the import. Only
 *          new documents count: profiles an import updated are left out, which
 *          favours the baseline;
 *        - one document per row: the file parsed and mapped by the same code,
 *          each row's main record upserted by source key, no secondary index;
 *   2. streaming `ingestEvents` through the gateway, several clients at once, in
 *      events/s (goal: 1,500/s);
 *   3. peak RSS of the worker process that runs the import job, for a leads
 *      file of two sizes (the file is streamed, so the peak should not grow with it).
 *
 * The import's goal, at least 0.8x the first baseline, is set at scale 10 (1,000,000 leads): at the
 * default size that baseline writes into a devdb holding little data, so the ratio there swings
 * with devdb's speed on a small heap more than with the import's.
 *
 * The gateway and subgraphs run in this process, each import's worker in a
 * fresh child process (platform/worker.ts), timed from the upload's start once the
 * worker is ready (as a long-running worker would be) to the import's success;
 * MongoDB is MONGODB_URI or, failing that, devdb started as a child process, so
 * no RSS measured includes the data.
 *
 * With devdb, its peak RSS after each import is reported too (it holds the data, so it grows with it).
 *
 *   npx tsx bench/ingest.ts            (or: npm run bench -- ingest)
 *   BENCH_SCALE=0.1 npx tsx bench/ingest.ts
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/ingest.ts   (CPU profiles of devdb and the workers)
 *   BENCH_ONLY=leads BENCH_SCALE=10 npx tsx bench/ingest.ts
 *       only the two leads imports (part 1 for leads, and part 3): 1,000,000 and 250,000 leads at
 *       scale 10, the measurement of import at scale, where the whole benchmark at that scale
 *       (2,000,000 activities, 600,000 streamed events) would take hours; on devdb it is bound by devdb's
 *       CPU, so it takes longer on a shared machine (about 16 minutes on two idle cores). Written to
 *       bench/results/ingest-leads.json
 *
 * Prints a table and writes bench/results/ingest.json.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { createGraphQLCall } from '../lib/graphqlClient.js';
import {
  MARKETO_ACTIVITY_COLUMNS,
  MARKETO_LEAD_COLUMNS,
  MUNCHKIN,
  ORG,
  SALESFORCE_ACCOUNT_COLUMNS,
  marketoActivity,
  marketoLead,
  salesforceAccount,
} from '../lib/fixtures/exportFiles.js';
import type { RunningPlatform } from '../platform/startPlatform.js';
import { measureImport, writeCsv, type ImportSpec } from './ingest/fileImport.js';
import { rawWriteOfRows, rawWriteOfStored, storedIds } from './ingest/rawBaselines.js';
import { measureStreaming } from './ingest/streamingIngest.js';
import { startBenchPlatform } from './support/benchPlatform.js';
import { peakRssMb, startWorkerChild, stopChild } from './support/processes.js';
import { dropBenchDatabases, machine, mongoSetting, writeResults } from './support/results.js';

const DB_PREFIX = 'benchingest_';

interface ImportMeasure {
  file: string;
  rows: number;
  megabytes: number;
  importSeconds: number;
  /** Of importSeconds, the upload through the gateway (the rest is the worker's job). */
  uploadSeconds: number;
  importRowsPerSecond: number;
  /** Documents the import stored, all collections together. */
  documentsStored: number;
  rawSeconds: number;
  rawRowsPerSecond: number;
  ratio: number;
  oneDocPerRowRawSeconds: number;
  oneDocPerRowRatio: number;
  peakRssMb: number;
  /** devdb's peak RSS so far (null on MONGODB_URI): the data it holds, not the import's working memory. */
  devdbPeakRssMb: number | null;
  rowsRejected: number;
}

/** BENCH_ONLY: a part of the benchmark that can run alone at a scale the whole could not afford. */
const PARTS = ['leads'] as const;
type Part = (typeof PARTS)[number];

function onlyPart(): Part | undefined {
  const only = process.env.BENCH_ONLY;
  if (only === undefined || only === '') return undefined;
  if (!(PARTS as readonly string[]).includes(only)) throw new Error(`BENCH_ONLY must be one of ${PARTS.join(', ')} (got ${only})`);
  return only as Part;
}

export async function run() {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  const only = onlyPart();
  const count = (n: number) => Math.max(10, Math.round(n * scale));
  const leads = count(100_000);
  const leadsSpec: ImportSpec = { name: 'Marketo leads', source: 'marketo', instance: MUNCHKIN, entity: 'leads', columns: MARKETO_LEAD_COLUMNS, rows: leads, row: (n) => marketoLead(n) };
  const allSpecs: ImportSpec[] = [
    { name: 'Salesforce Account', source: 'salesforce', instance: ORG, entity: 'Account', columns: SALESFORCE_ACCOUNT_COLUMNS, rows: count(20_000), row: (n) => salesforceAccount(n) },
    leadsSpec,
    {
      name: 'Marketo activities',
      source: 'marketo',
      instance: MUNCHKIN,
      entity: 'activities',
      columns: MARKETO_ACTIVITY_COLUMNS,
      rows: count(200_000),
      row: (n) => marketoActivity(n, 1000 + (n % leads)),
    },
  ];
  const specs = only === 'leads' ? [leadsSpec] : allSpecs;
  // The memory comparison: the same kind of file at a quarter of the size, into another instance.
  const smallLeads: ImportSpec = { ...leadsSpec, name: 'Marketo leads (1/4 size)', instance: '999-MEM-999', rows: Math.max(10, Math.round(leads / 4)) };

  const workDir = await mkdtemp(join(tmpdir(), 'cdp-bench-ingest-'));
  const children: ChildProcess[] = [];
  let platform: RunningPlatform | undefined;
  let client: MongoClient | undefined;
  try {
    const started = await startBenchPlatform({ dbPrefix: DB_PREFIX, children });
    const { mongoUri, gatewaySecret: secret } = started;
    platform = started.platform;
    const key = platform.generatedAdminKey!;
    const call = createGraphQLCall(platform.gateway.url, { headers: { authorization: `Bearer ${key}` } });
    client = new MongoClient(mongoUri);
    await client.connect();
    const scratch = client.db(`${DB_PREFIX}scratch`);
    const sandboxDb = client.db(platform.databases.sandbox('default').databaseName);
    // startBenchPlatform starts devdb as the first child when there is no MONGODB_URI.
    const devdb = process.env.MONGODB_URI ? undefined : children[0];

    console.log(`Generating files (scale ${scale})...`);
    const files = new Map<ImportSpec, string>();
    for (const spec of [smallLeads, ...specs]) files.set(spec, await writeCsv(workDir, spec));

    const imports: ImportMeasure[] = [];
    for (const spec of [smallLeads, ...specs]) {
      const file = files.get(spec)!;
      console.log(`Importing ${spec.name}: ${spec.rows} rows...`);
      // A fresh worker for each import, so its peak RSS is that import's alone.
      const worker = startWorkerChild({
        MONGODB_URI: mongoUri,
        CDP_DB_PREFIX: DB_PREFIX,
        CDP_GATEWAY_SECRET: secret,
        CDP_LOG_LEVEL: process.env.BENCH_LOG ?? 'silent',
        ...Object.fromEntries(Object.entries(platform.subgraphs).map(([name, service]) => [`${name.toUpperCase()}_URL`, service.url])),
      });
      await worker.ready;
      const before = await storedIds(sandboxDb);
      const measured = await measureImport(call, spec, file, worker.child);
      const raw = await rawWriteOfStored(sandboxDb, scratch, before, spec);
      const oneDocPerRow = await rawWriteOfRows(scratch, spec, file);
      imports.push({
        file: spec.name,
        rows: spec.rows,
        megabytes: round((await stat(file)).size / 1e6),
        importSeconds: round(measured.seconds),
        uploadSeconds: round(measured.uploadSeconds),
        importRowsPerSecond: Math.round(spec.rows / measured.seconds),
        documentsStored: raw.documents,
        rawSeconds: round(raw.seconds),
        rawRowsPerSecond: Math.round(spec.rows / raw.seconds),
        ratio: round(raw.seconds / measured.seconds),
        oneDocPerRowRawSeconds: round(oneDocPerRow),
        oneDocPerRowRatio: round(oneDocPerRow / measured.seconds),
        peakRssMb: measured.peakRssMb,
        devdbPeakRssMb: devdb?.pid ? await peakRssMb(devdb.pid) : null,
        rowsRejected: measured.rowsRejected,
      });
    }

    let streaming: Awaited<ReturnType<typeof measureStreaming>> | undefined;
    if (!only) {
      console.log('Streaming ingestEvents through the gateway...');
      streaming = await measureStreaming(call, leads, count(60_000));
    }

    const totals = imports.filter((m) => m.file !== smallLeads.name);
    const importRows = totals.reduce((sum, m) => sum + m.rows, 0);
    const importSeconds = totals.reduce((sum, m) => sum + m.importSeconds, 0);
    const rawSeconds = totals.reduce((sum, m) => sum + m.rawSeconds, 0);
    const oneDocPerRowSeconds = totals.reduce((sum, m) => sum + m.oneDocPerRowRawSeconds, 0);
    const summary = {
      importRowsPerSecond: Math.round(importRows / importSeconds),
      rawRowsPerSecond: Math.round(importRows / rawSeconds),
      importVsRaw: round(rawSeconds / importSeconds),
      importVsOneDocPerRowRaw: round(oneDocPerRowSeconds / importSeconds),
      streamingEventsPerSecond: streaming?.eventsPerSecond ?? null,
      peakRssMbSmallLeads: imports.find((m) => m.file === smallLeads.name)!.peakRssMb,
      peakRssMbLeads: imports.find((m) => m.file === 'Marketo leads')!.peakRssMb,
    };
    console.table(
      imports.map((m) => ({
        file: m.file,
        rows: m.rows,
        MB: m.megabytes,
        'import rows/s': m.importRowsPerSecond,
        'upload s': m.uploadSeconds,
        'job s': round(m.importSeconds - m.uploadSeconds),
        'docs stored': m.documentsStored,
        'raw rows/s': m.rawRowsPerSecond,
        'import / raw': m.ratio,
        'import / raw 1 doc/row': m.oneDocPerRowRatio,
        'peak RSS MB': m.peakRssMb,
        ...(m.devdbPeakRssMb === null ? {} : { 'devdb peak RSS MB': m.devdbPeakRssMb }),
        rejected: m.rowsRejected,
      })),
    );
    const streamingLine = streaming
      ? `Streaming ingestEvents: ${streaming.eventsPerSecond} events/s with ${streaming.clients} clients (goal >= 1,500/s)` +
        `${streaming.failedCalls > 0 ? `, ${streaming.failedCalls} calls failed (last: ${streaming.lastFailure})` : ''}. `
      : '';
    console.log(
      `Import: ${summary.importRowsPerSecond} rows/s, ${summary.importVsRaw}x a raw bulkWrite of the documents it stored (goal >= 0.8x at 1,000,000 leads, scale 10), ` +
        `${summary.importVsOneDocPerRowRaw}x one of one document per row. ${streamingLine}` +
        `Peak RSS of the worker: ${summary.peakRssMbSmallLeads} MB for ${smallLeads.rows} leads, ${summary.peakRssMbLeads} MB for ${leads}.`,
    );
    const document = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      machine: machine(),
      settings: { scale, only: only ?? null, mongo: mongoSetting() },
      imports,
      streaming: streaming ?? null,
      summary,
    };
    await writeResults(only ? `ingest-${only}` : 'ingest', document);
    return document;
  } finally {
    if (client) {
      await dropBenchDatabases(client, DB_PREFIX);
      await client.close();
    }
    await platform?.stop();
    for (const child of children) await stopChild(child);
    await rm(workDir, { recursive: true, force: true });
  }
}

const round = (value: number) => Math.round(value * 100) / 100;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
