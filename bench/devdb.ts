/**
 * devdb benchmark: write and read throughput, index speed-up, a $lookup aggregation and change-stream
 * latency, measured in one run against an in-process devdb. `npm run bench -- devdb` or
 * `npx tsx bench/devdb.ts`; prints a table and writes bench/results/devdb.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { startDevDb } from '../devdb/index.js';

export interface BenchResult {
  name: 'devdb';
  at: string;
  node: string;
  documents: number;
  insertsPerSec: number;
  indexedFindsPerSec: number;
  unindexedFindsPerSec: number;
  indexSpeedup: number;
  lookupAggregate: { documents: number; ms: number; groups: number };
  changeStreamLatencyMs: { samples: number; p50: number; p99: number };
  totalSeconds: number;
}

const DOCS = Number(process.env.DEVDB_BENCH_DOCS ?? 1_000_000);
const INSERT_BATCH = 10_000;
const INDEXED_SAMPLES = 5_000;
const UNINDEXED_SAMPLES = 5;
const LOOKUP_DOCS = 100_000;
const LATENCY_SAMPLES = 300;

function person(i: number): Document {
  return { email: `user${i}@example.com`, code: `c${i}`, n: i, group: i % 1000, country: i % 3 === 0 ? 'US' : 'DE', score: i % 100 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

async function timeInserts(coll: Collection): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < DOCS; i += INSERT_BATCH) {
    const batch = Array.from({ length: Math.min(INSERT_BATCH, DOCS - i) }, (_, j) => person(i + j));
    await coll.insertMany(batch, { ordered: false });
  }
  return DOCS / ((performance.now() - started) / 1000);
}

/**
 * Sequential point queries, `find(filter).toArray()` for one random value: without an index (or a limit)
 * the server must look at every document, as mongod would. Returns operations per second.
 */
async function timeFinds(coll: Collection, samples: number, filterFor: (i: number) => Document): Promise<number> {
  const started = performance.now();
  for (let s = 0; s < samples; s++) {
    const i = Math.floor(Math.random() * DOCS);
    const docs = await coll.find(filterFor(i)).toArray();
    if (docs.length !== 1 || docs[0].n !== i) throw new Error(`point find for ${i} returned ${JSON.stringify(docs)}`);
  }
  return samples / ((performance.now() - started) / 1000);
}

async function timeLookup(client: MongoClient): Promise<BenchResult['lookupAggregate']> {
  const db = client.db('bench_lookup');
  await db.collection('accounts').insertMany(Array.from({ length: 1000 }, (_, i) => ({ _id: i as never, industry: `ind${i % 20}` })));
  const people = db.collection('people');
  for (let i = 0; i < LOOKUP_DOCS; i += INSERT_BATCH) {
    await people.insertMany(Array.from({ length: INSERT_BATCH }, (_, j) => ({ accountId: (i + j) % 1000, n: i + j })));
  }
  const started = performance.now();
  const groups = await people.aggregate([
    { $lookup: { from: 'accounts', localField: 'accountId', foreignField: '_id', as: 'account' } },
    { $unwind: '$account' },
    { $group: { _id: '$account.industry', people: { $sum: 1 } } },
  ]).toArray();
  const ms = performance.now() - started;
  if (groups.reduce((n, g) => n + (g.people as number), 0) !== LOOKUP_DOCS) throw new Error('lookup aggregate lost documents');
  return { documents: LOOKUP_DOCS, ms: round(ms), groups: groups.length };
}

async function timeChangeStream(client: MongoClient): Promise<BenchResult['changeStreamLatencyMs']> {
  const coll = client.db('bench_changes').collection('events');
  const stream = coll.watch([{ $match: { operationType: 'insert' } }], { maxAwaitTimeMS: 1000 });
  await stream.tryNext();
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const next = stream.next();
    const sent = performance.now();
    await coll.insertOne({ i, sent });
    const ev = await next;
    latencies.push(performance.now() - sent);
    if (ev.operationType !== 'insert') throw new Error('unexpected change event');
  }
  await stream.close();
  latencies.sort((a, b) => a - b);
  return { samples: LATENCY_SAMPLES, p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2) };
}

export async function run(): Promise<BenchResult> {
  const begun = performance.now();
  const devdb = await startDevDb({ logger: () => undefined });
  const client = new MongoClient(devdb.uri);
  try {
    await client.connect();
    const coll = client.db('bench_devdb').collection('people');
    await coll.createIndex({ email: 1 }, { unique: true });
    const insertsPerSec = await timeInserts(coll);
    const indexedFindsPerSec = await timeFinds(coll, INDEXED_SAMPLES, (i) => ({ email: `user${i}@example.com` }));
    const unindexedFindsPerSec = await timeFinds(coll, UNINDEXED_SAMPLES, (i) => ({ code: `c${i}` }));
    await client.db('bench_devdb').dropDatabase();
    const lookupAggregate = await timeLookup(client);
    const changeStreamLatencyMs = await timeChangeStream(client);
    const result: BenchResult = {
      name: 'devdb',
      at: new Date().toISOString(),
      node: process.version,
      documents: DOCS,
      insertsPerSec: Math.round(insertsPerSec),
      indexedFindsPerSec: Math.round(indexedFindsPerSec),
      unindexedFindsPerSec: round(unindexedFindsPerSec, 2),
      indexSpeedup: Math.round(indexedFindsPerSec / unindexedFindsPerSec),
      lookupAggregate,
      changeStreamLatencyMs,
      totalSeconds: round((performance.now() - begun) / 1000),
    };
    report(result);
    await writeResult(result);
    return result;
  } finally {
    await client.close();
    await devdb.stop();
  }
}

function report(r: BenchResult): void {
  console.table([
    { metric: `inserts/s (insertMany of ${INSERT_BATCH}, unique index)`, value: r.insertsPerSec },
    { metric: `point finds/s, find({ email }) on unique index (${r.documents} docs)`, value: r.indexedFindsPerSec },
    { metric: `point finds/s, find({ code }) unindexed (${r.documents} docs)`, value: r.unindexedFindsPerSec },
    { metric: 'index speed-up (indexed / unindexed)', value: `${r.indexSpeedup}x` },
    { metric: `$lookup + $unwind + $group over ${r.lookupAggregate.documents} docs (ms)`, value: r.lookupAggregate.ms },
    { metric: 'change stream latency p50 (ms)', value: r.changeStreamLatencyMs.p50 },
    { metric: 'change stream latency p99 (ms)', value: r.changeStreamLatencyMs.p99 },
    { metric: 'total run (s)', value: r.totalSeconds },
  ]);
  if (r.indexSpeedup < 100) console.warn(`WARNING: indexed point finds are only ${r.indexSpeedup}x faster than a scan (expected >= 100x)`);
}

async function writeResult(r: BenchResult): Promise<void> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'devdb.json'), JSON.stringify(r, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  run().then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
