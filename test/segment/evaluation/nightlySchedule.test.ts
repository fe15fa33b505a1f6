/**
 * Starting runs: on demand (a QUEUED run and one job), and nightly per sandbox from
 * its cron, by a sweep that any number of workers may run at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { JOBS_COLLECTION } from '../../../lib/jobs.js';
import { silentLogger } from '../../../lib/logger.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import { createIdGenerator } from '../../../lib/subgraph/ids.js';
import { TenancyRepository } from '../../../lib/tenancy/tenancy.repository.js';
import { EVALUATE_SEGMENTS_JOB_NAME, scheduleEvaluation } from '../../../subgraphs/segment/evaluation/evaluationScheduler.js';
import { nightlyRunId, sweepEvaluations } from '../../../subgraphs/segment/evaluation/evaluationSweep.job.js';
import {
  getEvaluationSchedule,
  latestDueAt,
  nextDueAt,
  setEvaluationSchedule,
} from '../../../subgraphs/segment/evaluation/nightlySchedule.js';
import { EvaluationRunsRepository } from '../../../subgraphs/segment/memberships/evaluationRuns.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { addSegments, newSandbox } from './support/sandbox.js';

const PREFIX = uniqueName('evn_');
let client: MongoClient;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const utc = (text: string) => new Date(`${text}Z`);
const jobsOf = (databases: Databases, sandbox: string) =>
  databases.platform().collection(JOBS_COLLECTION).find({ name: EVALUATE_SEGMENTS_JOB_NAME, 'data.sandbox': sandbox }).toArray();

async function liveSandbox(withSegments: boolean) {
  const created = newSandbox(client, `${PREFIX}_${uniqueName('p')}_`);
  await new TenancyRepository(created.databases.platform()).insertSandbox({ _id: created.sandbox, createdAt: new Date(), createdBy: null });
  if (withSegments) await addSegments(created.db, [{ id: 'seg1', expression: 'leadScore >= 50' }]);
  return created;
}

describe('the cron', () => {
  it('finds the latest and next due times in UTC', () => {
    expect(latestDueAt('0 2 * * *', utc('2026-03-05T01:59:59'))).toEqual(utc('2026-03-04T02:00:00'));
    expect(latestDueAt('0 2 * * *', utc('2026-03-05T02:00:00'))).toEqual(utc('2026-03-05T02:00:00'));
    expect(nextDueAt('0 2 * * *', utc('2026-03-05T02:00:00'))).toEqual(utc('2026-03-06T02:00:00'));
  });

  it('is the default 02:00 UTC until a sandbox sets another, and must be five fields at most hourly', async () => {
    const { db } = await liveSandbox(false);
    const now = utc('2026-03-05T15:00:00');
    expect(await getEvaluationSchedule(db, now)).toEqual({ cron: '0 2 * * *', timezone: 'UTC', nextRunAt: utc('2026-03-06T02:00:00'), lastDueAt: null });
    expect(await setEvaluationSchedule(db, ' 30  4 * * 1-5 ', now)).toMatchObject({ cron: '30 4 * * 1-5', nextRunAt: utc('2026-03-06T04:30:00') });
    await expect(setEvaluationSchedule(db, '0 2 * *', now)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('five fields') });
    await expect(setEvaluationSchedule(db, '0 25 * * *', now)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(setEvaluationSchedule(db, '*/5 * * * *', now)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('once an hour') });
    expect((await getEvaluationSchedule(db, now)).cron).toBe('30 4 * * 1-5');
  });
});

describe('on-demand runs', () => {
  it('answer a QUEUED run at once and write one job for it', async () => {
    const { databases, sandbox } = await liveSandbox(true);
    const now = utc('2026-03-05T15:00:00');
    const run = await scheduleEvaluation(databases, sandbox, { segmentIds: ['seg1', 'seg1'], now, ids: createIdGenerator(() => now) });
    expect(run).toMatchObject({ status: 'QUEUED', trigger: 'ON_DEMAND', segmentIds: ['seg1'], evaluationTime: now, segmentsTotal: 1, segmentsDone: 0, startedAt: null });
    expect(run.id).toMatch(/^run_/);
    const again = await scheduleEvaluation(databases, sandbox, { now, ids: createIdGenerator(() => now), runId: run.id });
    expect(again.id).toBe(run.id);
    expect((await jobsOf(databases, sandbox)).map((job) => job.data)).toEqual([{ sandbox, runId: run.id }]);
  });
});

describe('the evaluation sweep', () => {
  it('starts one nightly run per due time in sandboxes with segments, whichever worker sweeps', async () => {
    const withSegments = await liveSandbox(true);
    const empty = await liveSandbox(false);
    // Both sandboxes share the platform database of their own prefix: sweep each.
    const sweep = (databases: Databases, at: string) => sweepEvaluations({ databases, logger: silentLogger, now: () => utc(at) });

    // The first sweep that sees a segment only starts counting.
    expect(await sweep(withSegments.databases, '2026-03-05T15:00:00')).toEqual([]);
    expect(await sweep(withSegments.databases, '2026-03-06T01:59:00')).toEqual([]);
    // Due at 02:00: two workers sweep at once; one run, one job.
    const [first, second] = await Promise.all([sweep(withSegments.databases, '2026-03-06T02:00:30'), sweep(withSegments.databases, '2026-03-06T02:00:31')]);
    const started = [...first!, ...second!].map((outcome) => outcome.nightlyRunId);
    expect(started.length).toBeGreaterThanOrEqual(1);
    expect(new Set(started)).toEqual(new Set([nightlyRunId(utc('2026-03-06T02:00:00'))]));
    expect(await sweep(withSegments.databases, '2026-03-06T02:05:00')).toEqual([]);
    const runs = await new EvaluationRunsRepository(withSegments.db).listRecent(10);
    expect(runs.map((run) => [run.id, run.trigger, run.status])).toEqual([['nightly_20260306T0200Z', 'NIGHTLY', 'QUEUED']]);
    expect(await jobsOf(withSegments.databases, withSegments.sandbox)).toHaveLength(1);

    // The next night, and a schedule changed to 04:30 on weekdays.
    expect((await sweep(withSegments.databases, '2026-03-07T02:01:00')).map((outcome) => outcome.nightlyRunId)).toEqual(['nightly_20260307T0200Z']);
    await setEvaluationSchedule(withSegments.db, '30 4 * * 1-5', utc('2026-03-07T03:00:00'));
    expect(await sweep(withSegments.databases, '2026-03-08T04:31:00')).toEqual([]); // a Sunday
    expect((await sweep(withSegments.databases, '2026-03-09T04:31:00')).map((outcome) => outcome.nightlyRunId)).toEqual(['nightly_20260309T0430Z']);

    expect(await sweep(empty.databases, '2026-03-09T04:31:00')).toEqual([]);
    expect(await new EvaluationRunsRepository(empty.db).listRecent(10)).toEqual([]);
  });

  it('gives a job to a run left QUEUED without one', async () => {
    const { databases, sandbox, db } = await liveSandbox(true);
    const runs = new EvaluationRunsRepository(db);
    await runs.ensureIndexes();
    const createdAt = utc('2026-03-05T15:00:00');
    await runs.insertQueued({ id: 'run_orphan', trigger: 'ON_DEMAND', segmentIds: null, evaluationTime: createdAt, createdAt });
    const sweep = (at: string) => sweepEvaluations({ databases, logger: silentLogger, now: () => utc(at) });
    expect(await sweep('2026-03-05T15:00:30')).toEqual([]);
    expect(await sweep('2026-03-05T15:02:00')).toEqual([{ sandbox, nightlyRunId: null, requeued: ['run_orphan'] }]);
    expect(await sweep('2026-03-05T15:03:00')).toEqual([]);
    expect((await jobsOf(databases, sandbox)).map((job) => job.data.runId)).toEqual(['run_orphan']);
  });
});
