/**
 * Segments benchmark, in one run (`npm run bench -- segments`):
 *   (a) the compiled predicate against hand-written JavaScript for the same conditions,
 *       over the same members loaded in memory (ratio = hand-written time / compiled
 *       time; goal: at least 0.7);
 *   (b) batch evaluation of 100 generated segments (lib/fixtures/segmentExpressions.ts)
 *       over 200,000 people with accounts, opportunities, relations and events
 *       (lib/fixtures/b2bData.ts), by a worker process, in member-evaluations per second
 *       (goal: all 100 within 10 minutes), and the worker's peak RSS with 50,000 and
 *       200,000 people (it must not grow with the number of people), and the CPU seconds the
 *       worker and devdb spent in each run (steadier than wall time on a shared machine).
 *
 * MongoDB is MONGODB_URI or, failing that, devdb in a child process, so the worker's
 * RSS never includes the data.
 *
 *   BENCH_SCALE=0.05 npm run bench -- segments     (a quick run at 5 % of the sizes)
 *   BENCH_LOG=info npm run bench -- segments       (the worker's logs)
 *
 * Prints tables and writes bench/results/segments.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { personIdOf, writeB2bData } from '../lib/fixtures/b2bData.js';
import { createDatabases } from '../lib/mongo/databases.js';
import { loadMembers } from '../subgraphs/segment/evaluation/memberLoader.js';
import type { PersonMember } from '../subgraphs/segment/language/index.js';
import { measureBatch, type BatchMeasure } from './segments/batchRun.js';
import { generateSegments } from './segments/generatedSegments.js';
import { measurePredicates } from './segments/predicateSpeed.js';
import { peakRssMb, startDevDbChild, stopChild } from './support/processes.js';

const RESULTS_FILE = fileURLToPath(new URL('./results/segments.json', import.meta.url));
const DB_PREFIX = 'benchseg_';
const NOW = new Date(Date.UTC(2026, 5, 15, 12));
const SEED = 20_260_615;
const SEGMENTS = 100;
const LOAD_PAGE = 1_000;
/**
 * The worker holds a page of members at a time, so its peak must not follow the number of people
 * (the large run has four times the small one's). A peak RSS still moves from run to run with V8's
 * young generation and heap slack (about 470 to 710 MB over runs at the same size): within 25% is flat.
 */
const FLAT_MEMORY_TOLERANCE = 1.25;

async function predicateMembers(mongoUri: string, people: number): Promise<PersonMember[]> {
  const client = new MongoClient(mongoUri);
  await client.connect();
  const db = createDatabases(client, `${DB_PREFIX}p_`).sandbox('bench');
  try {
    await db.dropDatabase();
    await writeB2bData(db, { seed: SEED, now: NOW, people });
    const members: PersonMember[] = [];
    for (let first = 0; first < people; first += LOAD_PAGE) {
      const ids = Array.from({ length: Math.min(LOAD_PAGE, people - first) }, (_, k) => personIdOf(first + k));
      for (const member of await loadMembers(db, 'PERSON', ids)) if (member) members.push(member as PersonMember);
    }
    return members;
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}

export async function run() {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  const count = (n: number) => Math.max(100, Math.round(n * scale));
  const children: ChildProcess[] = [];
  try {
    const mongoUri = process.env.MONGODB_URI || (await startDevDbChild(children));
    const gatewaySecret = randomBytes(32).toString('base64url');
    const logLevel = process.env.BENCH_LOG ?? 'silent';

    console.log(`(a) compiled predicate vs hand-written (scale ${scale})...`);
    const members = await predicateMembers(mongoUri, count(20_000));
    const predicates = measurePredicates(members, NOW);
    console.table(
      predicates.map((p) => ({
        case: p.case,
        members: p.members,
        matching: p.matching,
        disagreements: p.disagreements,
        'compiled ns/member': p.compiledNsPerMember,
        'hand-written ns/member': p.handWrittenNsPerMember,
        'ratio (goal >= 0.7)': p.ratio,
      })),
    );

    const segments = generateSegments(SEGMENTS, SEED, NOW);
    const batches: BatchMeasure[] = [];
    for (const [label, people] of [['small', count(50_000)], ['large', count(200_000)]] as const) {
      console.log(`(b) batch evaluation of ${segments.length} segments over ${people} people (${label})...`);
      batches.push(await measureBatch({ mongoUri, prefix: `${DB_PREFIX}${label}_`, gatewaySecret, people, segments, now: NOW, seed: SEED, logLevel, devDbPid: children[0]?.pid }));
    }
    console.table(
      batches.map((b) => ({
        people: b.people,
        accounts: b.accounts,
        events: b.events,
        segments: b.segments,
        status: b.status,
        'first run s': b.seconds,
        'first run member-evaluations/s': b.memberEvaluationsPerSecond,
        'next night s': b.nightlySeconds,
        'next night member-evaluations/s': b.nightlyMemberEvaluationsPerSecond,
        'members in segments': b.members,
        'worker peak RSS MB': b.peakRssMb,
        'CPU s first run (worker + devdb)': `${b.cpuSeconds.worker[0]} + ${b.cpuSeconds.devdb?.[0] ?? '-'}`,
        'CPU s next night (worker + devdb)': `${b.cpuSeconds.worker[1]} + ${b.cpuSeconds.devdb?.[1] ?? '-'}`,
      })),
    );
    for (const b of batches) if (b.error) console.log(`Run over ${b.people} people: ${b.error}`);
    const large = batches[1]!;
    // devdb holds the data in its own process: its high-water mark is the data's, not the worker's.
    const devDbPeakRssMb = children[0]?.pid ? await peakRssMb(children[0].pid) : null;
    const document = {
      benchmark: 'segments',
      at: new Date().toISOString(),
      scale,
      cpus: cpus().length,
      mongo: process.env.MONGODB_URI ? 'MONGODB_URI' : 'devdb (child process)',
      summary: {
        predicateRatioMin: Math.min(...predicates.map((p) => p.ratio)),
        predicateGoalMet: predicates.every((p) => p.ratio >= 0.7 && p.disagreements === 0),
        firstRunSeconds: large.seconds,
        nightlyRunSeconds: large.nightlySeconds,
        firstRunWithinTenMinutes: large.status === 'SUCCEEDED' && large.seconds <= 600,
        nightlyRunWithinTenMinutes: large.nightlyStatus === 'SUCCEEDED' && large.nightlySeconds <= 600,
        memberEvaluationsPerSecond: large.memberEvaluationsPerSecond,
        nightlyMemberEvaluationsPerSecond: large.nightlyMemberEvaluationsPerSecond,
        peakRssMbSmall: batches[0]!.peakRssMb,
        peakRssMbLarge: large.peakRssMb,
        workerMemoryFlat: large.peakRssMb <= batches[0]!.peakRssMb * FLAT_MEMORY_TOLERANCE,
        devDbPeakRssMb,
        cpuSecondsLarge: large.cpuSeconds,
      },
      predicates,
      batches,
      segments: segments.map((segment) => ({ id: segment.id, targetEntity: segment.targetEntity, dependsOn: segment.dependsOn, expression: segment.expression })),
    };
    console.log(document.summary);
    await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(document, null, 2)}\n`);
    console.log(`Results written to ${RESULTS_FILE}`);
    return document;
  } finally {
    for (const child of children) await stopChild(child);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
  process.exit(0);
}
