/**
 * Part (b) of the segments benchmark: evaluation runs of every generated segment
 * over seeded B2B data (lib/fixtures/b2bData.ts), run by a fresh worker process
 * (platform/worker.ts) exactly as `evaluateSegments` runs in production, each timed
 * from scheduling to the run's end, with the worker's peak RSS: the first run (every
 * member enters: a write per membership and an event each), then the next night's
 * (members realized the night before become existing; time windows move).
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { writeB2bData } from '../../lib/fixtures/b2bData.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import { createIdGenerator } from '../../lib/subgraph/ids.js';
import { scheduleEvaluation } from '../../subgraphs/segment/evaluation/evaluationScheduler.js';
import { EvaluationRunsRepository, type EvaluationRunRecord } from '../../subgraphs/segment/memberships/evaluationRuns.repository.js';
import { peakRssMb, startWorkerChild, stopChild } from '../support/processes.js';
import { storeSegments, type GeneratedSegment } from './generatedSegments.js';

export interface BatchSpec {
  mongoUri: string;
  /** A database prefix of its own (CDP_DB_PREFIX of the worker). */
  prefix: string;
  gatewaySecret: string;
  people: number;
  segments: readonly GeneratedSegment[];
  now: Date;
  seed: number;
  logLevel: string;
  /** The devdb child's pid, when the data is in devdb: its CPU time is measured per run. */
  devDbPid?: number;
}

export interface BatchMeasure {
  people: number;
  accounts: number;
  events: number;
  segments: number;
  status: string;
  /** The first run. */
  seconds: number;
  memberEvaluations: number;
  memberEvaluationsPerSecond: number;
  /** The next night's run. */
  nightlyStatus: string;
  nightlySeconds: number;
  nightlyMemberEvaluationsPerSecond: number;
  members: number;
  peakRssMb: number;
  /**
   * CPU seconds (user + system) the worker and devdb spent in each run (first, next night): unlike
   * wall time, not inflated by other processes on a shared machine.
   */
  cpuSeconds: { worker: [number, number]; devdb: [number, number] | null };
  error: string | null;
}

/** A process's CPU time so far, in seconds (Linux: utime + stime of /proc/<pid>/stat, in clock ticks of 1/100 s). */
async function cpuSecondsOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const SANDBOX = 'bench';
const round = (seconds: number) => Math.round(seconds * 10) / 10;
const POLL_MS = 1_000;

export async function measureBatch(spec: BatchSpec): Promise<BatchMeasure> {
  // devdb answers nothing while it runs one long aggregation: wait for it rather than time out.
  const client = new MongoClient(spec.mongoUri, { serverSelectionTimeoutMS: 3_600_000, connectTimeoutMS: 3_600_000 });
  await client.connect();
  const databases = createDatabases(client, spec.prefix);
  const db = databases.sandbox(SANDBOX);
  try {
    await db.dropDatabase();
    const seeded = performance.now();
    const { counts } = await writeB2bData(db, { seed: spec.seed, now: spec.now, people: spec.people });
    await storeSegments(db, spec.segments, spec.now);
    console.log(`  seeded ${spec.people} people, ${counts.accounts} accounts, ${counts.events} events in ${Math.round((performance.now() - seeded) / 1000)} s`);

    const worker = startWorkerChild({ MONGODB_URI: spec.mongoUri, CDP_DB_PREFIX: spec.prefix, CDP_GATEWAY_SECRET: spec.gatewaySecret, CDP_LOG_LEVEL: spec.logLevel });
    try {
      await worker.ready;
      const runs = new EvaluationRunsRepository(db);
      const cpu = async () => ({ worker: await cpuSecondsOf(worker.child.pid), devdb: await cpuSecondsOf(spec.devDbPid) });
      const timeRun = async (evaluationTime: Date): Promise<{ run: EvaluationRunRecord; seconds: number; cpu: { worker: number; devdb: number } }> => {
        const cpuBefore = await cpu();
        const started = performance.now();
        const { id } = await scheduleEvaluation(databases, SANDBOX, { now: evaluationTime, ids: createIdGenerator() });
        let printed = performance.now();
        for (;;) {
          const run = await runs.findById(id);
          if (run?.status === 'SUCCEEDED' || run?.status === 'FAILED') {
            const seconds = (performance.now() - started) / 1000;
            const cpuAfter = await cpu();
            return { run, seconds, cpu: { worker: round(cpuAfter.worker - cpuBefore.worker), devdb: round(cpuAfter.devdb - cpuBefore.devdb) } };
          }
          if (performance.now() - printed > 10_000 && run) {
            printed = performance.now();
            console.log(`  ${run.status}: ${run.segmentsDone}/${run.segmentsTotal} segments, ${run.membersEvaluated} members looked at`);
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      };
      const { run, seconds, cpu: firstCpu } = await timeRun(spec.now);
      const nightly = run.status === 'SUCCEEDED' ? await timeRun(new Date(spec.now.getTime() + 86_400_000)) : null;
      const peak = await peakRssMb(worker.child.pid!);
      const personSegments = spec.segments.filter((segment) => segment.targetEntity === 'PERSON').length;
      const memberEvaluations = spec.people * personSegments + counts.accounts * (spec.segments.length - personSegments);
      return {
        people: spec.people,
        accounts: counts.accounts,
        events: counts.events,
        segments: spec.segments.length,
        status: run.status,
        seconds: Math.round(seconds * 10) / 10,
        memberEvaluations,
        memberEvaluationsPerSecond: Math.round(memberEvaluations / seconds),
        nightlyStatus: nightly?.run.status ?? 'NOT RUN',
        nightlySeconds: nightly ? Math.round(nightly.seconds * 10) / 10 : 0,
        nightlyMemberEvaluationsPerSecond: nightly ? Math.round(memberEvaluations / nightly.seconds) : 0,
        members: run.results.reduce((sum, result) => sum + result.realized + result.existing, 0),
        peakRssMb: peak,
        cpuSeconds: {
          worker: [firstCpu.worker, nightly?.cpu.worker ?? 0],
          devdb: spec.devDbPid === undefined ? null : [firstCpu.devdb, nightly?.cpu.devdb ?? 0],
        },
        error: run.error ?? nightly?.run.error ?? null,
      };
    } finally {
      await stopChild(worker.child);
    }
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}
