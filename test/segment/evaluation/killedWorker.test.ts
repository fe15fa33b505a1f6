/**
 * A worker process killed (SIGKILL) in the middle of an evaluation run: another
 * worker takes the job over once its lock expires and finishes the run, leaving the
 * same memberships and events as a run nobody interrupted, with no event twice.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { silentLogger } from '../../../lib/logger.js';
import { createIdGenerator } from '../../../lib/subgraph/ids.js';
import { runEvaluation } from '../../../subgraphs/segment/evaluation/batchEvaluation.js';
import { scheduleEvaluation } from '../../../subgraphs/segment/evaluation/evaluationScheduler.js';
import { EvaluationRunsRepository, type EvaluationRunRecord } from '../../../subgraphs/segment/memberships/evaluationRuns.repository.js';
import { MEMBERSHIP_EVENTS_COLLECTION } from '../../../subgraphs/segment/memberships.layout.js';
import { connectTestClient, dropDatabasesWithPrefix, mongoUri, uniqueName } from '../../support/mongo.js';
import { killWorkerProcess, workerProcesses } from '../../support/workerProcess.js';
import { GATES_COLLECTION } from './support/workerGate.js';
import { predicateSource } from './support/predicateSource.js';
import { addSegments, eventState, membershipState, newSandbox, people, putPeople, queueRun, T0 } from './support/sandbox.js';

const PREFIX = uniqueName('evk_');
const WORKER = fileURLToPath(new URL('./support/evaluationWorker.ts', import.meta.url));
const RUN_AT = new Date(T0.getTime() + 86_400_000);
let client: MongoClient;
const workers = workerProcesses();

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await workers.killAll();
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

/** Starts a worker process; resolves once it takes jobs. */
const startWorkerProcess = (prefix: string, name: string, gateAfter: number) => workers.start(WORKER, { uri: mongoUri(), prefix, name, args: [String(gateAfter)] });

/** Polls until `check` answers a value (a state another process reaches); fails after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Three segments (one of segments), 300 people, a first run, then scores that move before the run under test. */
async function prepare(db: Db): Promise<void> {
  await addSegments(db, [
    { id: 'a_hot', expression: 'leadScore >= 50' },
    { id: 'b_fr', expression: 'country = "FR"' },
    { id: 'c_hotFr', expression: 'inSegment("a_hot") and inSegment("b_fr")' },
  ]);
  await putPeople(db, people(300));
  await queueRun(db, 'run1', T0);
  await runEvaluation('run1', { db, logger: silentLogger, now: () => T0, exitedRetentionDays: 30, leaseMs: 60_000, qualifying: predicateSource(db) });
  await putPeople(db, people(300).map((person) => ({ ...person, leadScore: (person.leadScore! + 30) % 100 })));
}

describe('a worker killed mid-run', () => {
  it('leaves nothing the next worker does not finish exactly', async () => {
    const expected = newSandbox(client, `${PREFIX}_clean_`);
    await prepare(expected.db);
    await queueRun(expected.db, 'run2', RUN_AT);
    await runEvaluation('run2', { db: expected.db, logger: silentLogger, now: () => RUN_AT, exitedRetentionDays: 30, leaseMs: 60_000, qualifying: predicateSource(expected.db) });

    const prefix = `${PREFIX}_w_`;
    const { databases, sandbox, db } = newSandbox(client, prefix);
    await prepare(db);
    const first = await startWorkerProcess(prefix, 'worker-1', 18);
    await scheduleEvaluation(databases, sandbox, { now: RUN_AT, ids: createIdGenerator(), runId: 'run2' });

    await waitFor('the first worker to stop at its gate', () => databases.platform().collection(GATES_COLLECTION).findOne({ _id: 'worker-1' as never }).then((doc) => doc ?? undefined));
    const runs = new EvaluationRunsRepository(db);
    const midway = (await runs.findById('run2'))!;
    expect(midway).toMatchObject({ status: 'RUNNING', segmentsTotal: 3 });
    expect(midway.segmentsDone).toBeLessThan(3);
    expect(midway.membersEvaluated).toBeGreaterThan(0);
    await killWorkerProcess(first);

    await startWorkerProcess(prefix, 'worker-2', 0);
    const finished = await waitFor<EvaluationRunRecord>('the second worker to finish the run', async () => {
      const run = await runs.findById('run2');
      return run?.status === 'SUCCEEDED' || run?.status === 'FAILED' ? run : undefined;
    });
    expect(finished).toMatchObject({ status: 'SUCCEEDED', segmentsDone: 3, error: null });
    const clean = (await new EvaluationRunsRepository(expected.db).findById('run2'))!;
    const counts = (run: EvaluationRunRecord) => run.results.map(({ segmentId, realized, existing, exited }) => ({ segmentId, realized, existing, exited }));
    expect(counts(finished)).toEqual(counts(clean));

    expect(await membershipState(db)).toEqual(await membershipState(expected.db));
    const events = await eventState(db);
    expect(events).toEqual(await eventState(expected.db));
    expect(new Set(events).size).toBe(events.length);
    expect(await db.collection(MEMBERSHIP_EVENTS_COLLECTION).countDocuments()).toBe(events.length);
    // Two worker processes start and a lock must expire: more than the default test time on a busy machine.
  }, 120_000);
});
