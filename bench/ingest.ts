/**
 * Ingestion benchmark, in one run:
 *   1. batch import (the import API, the worker's import job, the subgraphs) of
 *      100,000 Marketo leads, 20,000 Salesforce accounts and 200,000 Marketo
 *      activities, made by the test factories as CSV files, in rows/s, against
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
 * The gateway and subgraphs run in this process, each import's worker in a
 * fresh child process (platform/worker.ts), timed from the upload's start once the
 * worker is ready (as a long-running worker would be) to the import's success;
 * MongoDB is MONGODB_URI or, failing that, devdb started as a child process, so
 * no RSS measured includes the data.
 *
 *   npx tsx bench/ingest.ts            (or: npm run bench -- ingest)
 *   BENCH_SCALE=0.1 npx tsx bench/ingest.ts
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/ingest.ts   (CPU profiles of devdb and the workers)
 *
 * Prints a table and writes bench/results/ingest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { MongoClient, type AnyBulkWriteOperation, type Db, type Document } from 'mongodb';
import { loadConfig } from '../lib/config.js';
import { createLogger, silentLogger } from '../lib/logger.js';
import { startPlatform, type RunningPlatform } from '../platform/startPlatform.js';
import { CHUNK_CHARS, createRowMapper, findMapping, readCsv, resolveColumns, uploadFile, type SourceName } from '../subgraphs/profile/imports/index.js';
import {
  MARKETO_ACTIVITY_COLUMNS,
  MARKETO_LEAD_COLUMNS,
  MUNCHKIN,
  ORG,
  SALESFORCE_ACCOUNT_COLUMNS,
  csvLine,
  marketoActivity,
  marketoLead,
  salesforceAccount,
  type Row,
} from '../test/import/support/csvFactories.js';

const RESULTS_FILE = fileURLToPath(new URL('./results/ingest.json', import.meta.url));
const DB_PREFIX = 'benchingest_';

interface ImportSpec {
  name: string;
  source: SourceName;
  instance: string;
  entity: string;
  columns: readonly string[];
  rows: number;
  row: (n: number) => Row;
}

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
  rowsRejected: number;
}

export async function run() {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  const count = (n: number) => Math.max(10, Math.round(n * scale));
  const leads = count(100_000);
  const specs: ImportSpec[] = [
    { name: 'Salesforce Account', source: 'salesforce', instance: ORG, entity: 'Account', columns: SALESFORCE_ACCOUNT_COLUMNS, rows: count(20_000), row: (n) => salesforceAccount(n) },
    { name: 'Marketo leads', source: 'marketo', instance: MUNCHKIN, entity: 'leads', columns: MARKETO_LEAD_COLUMNS, rows: leads, row: (n) => marketoLead(n) },
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
  // The memory comparison: the same kind of file at a quarter of the size, into another instance.
  const smallLeads: ImportSpec = { ...specs[1]!, name: 'Marketo leads (1/4 size)', instance: '999-MEM-999', rows: Math.max(10, Math.round(leads / 4)) };

  const workDir = await mkdtemp(join(tmpdir(), 'cdp-bench-ingest-'));
  const children: ChildProcess[] = [];
  let platform: RunningPlatform | undefined;
  let client: MongoClient | undefined;
  try {
    const mongoUri = process.env.MONGODB_URI || (await startDevDbChild(children));
    const secret = randomBytes(32).toString('base64url');
    const config = loadConfig({
      CDP_MODE: 'test',
      CDP_DB_PREFIX: DB_PREFIX,
      CDP_LOG_LEVEL: 'silent',
      CDP_GATEWAY_SECRET: secret,
      CDP_RATE_LIMIT_PER_MINUTE: '100000000',
    });
    platform = await startPlatform({
      config,
      // BENCH_LOG=error shows the platform's errors (e.g. a failed streaming call).
      logger: process.env.BENCH_LOG ? createLogger({ name: 'bench', level: process.env.BENCH_LOG }) : silentLogger,
      mongoUri,
      host: '127.0.0.1',
      ports: { gateway: 0, profile: 0, account: 0, segment: 0, destination: 0 },
      // Each import gets a fresh worker process, so its peak RSS is that import's alone.
      worker: false,
      graphiql: false,
    });
    const key = platform.generatedAdminKey!;
    const call = gatewayCaller(platform.gateway.url, key);
    client = new MongoClient(mongoUri);
    await client.connect();
    const scratch = client.db(`${DB_PREFIX}scratch`);
    const sandboxDb = client.db(platform.databases.sandbox('default').databaseName);

    console.log(`Generating files (scale ${scale})...`);
    const files = new Map<ImportSpec, string>();
    for (const spec of [smallLeads, ...specs]) files.set(spec, await writeCsv(workDir, spec));

    const imports: ImportMeasure[] = [];
    for (const spec of [smallLeads, ...specs]) {
      const file = files.get(spec)!;
      console.log(`Importing ${spec.name}: ${spec.rows} rows...`);
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
        rowsRejected: measured.rowsRejected,
      });
    }

    console.log('Streaming ingestEvents through the gateway...');
    const streaming = await measureStreaming(call, leads, count(60_000));

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
      streamingEventsPerSecond: streaming.eventsPerSecond,
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
        rejected: m.rowsRejected,
      })),
    );
    console.log(
      `Import: ${summary.importRowsPerSecond} rows/s, ${summary.importVsRaw}x a raw bulkWrite of the documents it stored (goal >= 0.5x), ` +
        `${summary.importVsOneDocPerRowRaw}x one of one document per row. ` +
        `Streaming ingestEvents: ${summary.streamingEventsPerSecond} events/s with ${streaming.clients} clients (goal >= 1,500/s)` +
        `${streaming.failedCalls > 0 ? `, ${streaming.failedCalls} calls failed (last: ${streaming.lastFailure})` : ''}. ` +
        `Peak RSS: ${summary.peakRssMbSmallLeads} MB for ${smallLeads.rows} leads, ${summary.peakRssMbLeads} MB for ${leads}.`,
    );
    const document = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
      settings: { scale, mongo: process.env.MONGODB_URI ? 'MONGODB_URI' : 'devdb (child process)' },
      imports,
      streaming,
      summary,
    };
    await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(document, null, 2)}\n`);
    console.log(`Results written to ${RESULTS_FILE}`);
    return document;
  } finally {
    if (client) {
      const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
      await Promise.all(databases.filter((d) => d.name.startsWith(DB_PREFIX)).map((d) => client!.db(d.name).dropDatabase()));
      await client.close();
    }
    await platform?.stop();
    for (const child of children) await stopChild(child);
    await rm(workDir, { recursive: true, force: true });
  }
}

type Call = <T = any>(query: string, variables: Record<string, unknown>) => Promise<T>;

function gatewayCaller(url: string, key: string): Call {
  return async (query, variables) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const json = (await response.json()) as { data?: any; errors?: unknown[] };
    if (json.errors || !json.data) throw new Error(`Gateway answered ${response.status}: ${JSON.stringify(json).slice(0, 500)}`);
    return json.data;
  };
}

async function writeCsv(dir: string, spec: ImportSpec): Promise<string> {
  const file = join(dir, `${spec.entity}-${spec.instance}.csv`);
  const out = createWriteStream(file);
  out.write(`${spec.columns.join(',')}\n`);
  for (let n = 0; n < spec.rows; n++) {
    if (!out.write(`${csvLine(spec.columns, spec.row(n))}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}

/** Through the API, as the CLI does (its upload code): start, upload the file in chunks, complete, wait; then the worker's peak RSS. */
async function measureImport(call: Call, spec: ImportSpec, file: string, worker: ChildProcess) {
  const started = performance.now();
  try {
    const { startImport } = await call(`mutation($input: StartImportInput!) { startImport(input: $input) { id } }`, {
      input: { source: spec.source, instance: spec.instance, entity: spec.entity },
    });
    const chunkCount = await uploadFile(call, startImport.id, file);
    await call(`mutation($id: ID!, $n: Int!) { completeImportUpload(importId: $id, chunkCount: $n) { id } }`, { id: startImport.id, n: chunkCount });
    const uploadSeconds = (performance.now() - started) / 1000;
    for (;;) {
      const { import: state } = await call(`query($id: ID!) { import(id: $id) { status rowsImported rowsRejected failure } }`, { id: startImport.id });
      if (state.status === 'FAILED') throw new Error(`Import of ${spec.name} failed: ${state.failure}`);
      if (state.status === 'SUCCEEDED') {
        const seconds = (performance.now() - started) / 1000;
        return { seconds, uploadSeconds, peakRssMb: await peakRssMb(worker.pid!), rowsRejected: state.rowsRejected as number };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await stopChild(worker);
  }
}

/** The process's high-water mark of resident memory (Linux: VmHWM). */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
  return Math.round((kb * 1024) / 1e6);
}

/**
 * A fresh worker process, and when it is ready to take jobs: its start-up (loading
 * the TypeScript sources, connecting) is not import work, so the clock starts after it.
 */
function startWorkerChild(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const logLevel = env.CDP_LOG_LEVEL;
  const child = spawn(process.execPath, [...profilerFlags(), '--import', 'tsx', fileURLToPath(new URL('../platform/worker.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Info at least, for the line that says it started; shown only when BENCH_LOG asks for logs.
    env: { ...process.env, ...env, CDP_LOG_LEVEL: logLevel === 'silent' ? 'info' : logLevel },
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`The worker exited with ${code} before it started`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (logLevel !== 'silent') console.log(line);
      if (line.includes('"Worker started"')) resolve();
    });
  });
  return { child, ready };
}

/** The import's own bookkeeping, which a raw load would not have: not part of what it stored. */
const BOOKKEEPING = new Set(['imports', 'importChunks', 'importErrors', 'profileSettings']);

/** The names of the sandbox's data collections: what an import stores, not its bookkeeping. */
async function dataCollections(db: Db): Promise<string[]> {
  const all = await db.listCollections({}, { nameOnly: true }).toArray();
  return all.map(({ name }) => name).filter((name) => !BOOKKEEPING.has(name) && !name.startsWith('system.'));
}

/** The ids in each of the sandbox's data collections, before an import. */
async function storedIds(db: Db): Promise<Map<string, Set<unknown>>> {
  const ids = new Map<string, Set<unknown>>();
  for (const name of await dataCollections(db)) {
    const set = new Set<unknown>();
    for await (const doc of db.collection(name).find({}, { projection: { _id: 1 } })) set.add(doc._id);
    ids.set(name, set);
  }
  return ids;
}

/**
 * The baseline: every document the import stored (those not there before it), written again with
 * the raw driver into scratch collections that have the same indexes. Only the bulkWrite calls are
 * timed; the documents are read back from the sandbox between them.
 */
async function rawWriteOfStored(sandbox: Db, scratch: Db, before: Map<string, Set<unknown>>, spec: ImportSpec) {
  let seconds = 0;
  let documents = 0;
  for (const name of await dataCollections(sandbox)) {
    const known = before.get(name) ?? new Set();
    const target = scratch.collection(`stored_${spec.entity}_${spec.instance}_${name}`);
    for (const { key, v: _version, ns: _ns, ...options } of await sandbox.collection(name).listIndexes().toArray()) {
      if (options.name !== '_id_') await target.createIndex(key, options);
    }
    let batch: AnyBulkWriteOperation[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const started = performance.now();
      await target.bulkWrite(batch, { ordered: false });
      seconds += (performance.now() - started) / 1000;
      documents += batch.length;
      batch = [];
    };
    for await (const doc of sandbox.collection(name).find({})) {
      if (known.has(doc._id)) continue;
      batch.push({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } });
      if (batch.length >= 1000) await flush();
    }
    await flush();
  }
  return { seconds, documents };
}

/** The other baseline: the same parsing and mapping, then each row's main record upserted by source key. */
async function rawWriteOfRows(db: Db, spec: ImportSpec, file: string): Promise<number> {
  const collection = db.collection<{ _id: string } & Document>(`raw_${spec.entity}_${spec.instance}`);
  const mapping = findMapping(spec.source, spec.entity);
  const started = performance.now();
  let mapRow: ReturnType<typeof createRowMapper> | undefined;
  let batch: AnyBulkWriteOperation<{ _id: string } & Document>[] = [];
  const flush = async () => {
    if (batch.length > 0) await collection.bulkWrite(batch, { ordered: false });
    batch = [];
  };
  for await (const item of readCsv(createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_CHARS }) as AsyncIterable<string>)) {
    if (item.kind === 'header') mapRow = createRowMapper(mapping, resolveColumns(mapping, item.columns), { instance: spec.instance });
    if (item.kind !== 'row') continue;
    const { main } = mapRow!(item.values);
    const { sourceKey, ...fields } = main.input as { sourceKey: string } & Document;
    batch.push({ updateOne: { filter: { _id: sourceKey }, update: { $set: fields }, upsert: true } });
    if (batch.length >= 1000) await flush();
  }
  await flush();
  return (performance.now() - started) / 1000;
}

/** Several clients each sending batches of events for the imported leads, as a stream of updates would. */
async function measureStreaming(call: Call, leads: number, events: number) {
  const clients = 8;
  const batchSize = 100;
  const perClient = Math.ceil(events / clients / batchSize);
  const mutation = `mutation($events: [EventInput!]!) { ingestEvents(events: $events) { status } }`;
  let sent = 0;
  let rejected = 0;
  let failedCalls = 0;
  let lastFailure: string | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let b = 0; b < perClient; b++) {
        const batch = Array.from({ length: batchSize }, (_, i) => {
          const n = (c * perClient + b) * batchSize + i;
          return {
            sourceKey: `stream-${n}@${MUNCHKIN}.Marketo`,
            identity: { namespace: 'b2b_person', value: `${1000 + (n % leads)}@${MUNCHKIN}.Marketo` },
            type: 'web.pageView',
            timestamp: new Date(Date.UTC(2026, 1, 1) + n * 1000).toISOString(),
            url: `https://www.example.com/pricing/${n % 20}`,
          };
        });
        try {
          const { ingestEvents } = await call<{ ingestEvents: Array<{ status: string }> }>(mutation, { events: batch });
          sent += batch.length;
          rejected += ingestEvents.filter((r) => r.status === 'REJECTED').length;
        } catch (error) {
          // Counted and reported, not fatal: the rate is of events the platform accepted.
          failedCalls++;
          lastFailure = (error as Error).message.slice(0, 300);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { clients, batchSize, events: sent, rejected, failedCalls, lastFailure, seconds: round(seconds), eventsPerSecond: Math.round(sent / seconds) };
}

async function startDevDbChild(children: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, [...profilerFlags(), '--import', 'tsx', fileURLToPath(new URL('../devdb/cli.ts', import.meta.url)), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devdb exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('MONGODB_URI=')) resolve(line.slice('MONGODB_URI='.length));
    });
  });
}

/** BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each child process there (devdb, every worker). */
function profilerFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
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
