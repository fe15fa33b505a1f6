/**
 * Runs of many segments scan the members once, page by page. A run that dies at
 * any write and is run again ends exactly as a run that never died (memberships,
 * events, counts), people who no longer exist exit, and the scan agrees with the
 * segments' own pipelines (a run of one segment takes that path).
 */
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeB2bData } from '../../../lib/fixtures/b2bData.js';
import { silentLogger } from '../../../lib/logger.js';
import { runEvaluation, type BatchEvaluationOptions } from '../../../subgraphs/segment/evaluation/batchEvaluation.js';
import type { MembershipWriter } from '../../../subgraphs/segment/evaluation/segmentDiff.js';
import { EvaluationRunsRepository } from '../../../subgraphs/segment/memberships/evaluationRuns.repository.js';
import { MembershipsRepository } from '../../../subgraphs/segment/memberships/memberships.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { addSegments, eventState, membershipState, newSandbox, queueRun } from './support/sandbox.js';

const PREFIX = uniqueName('evs_');
/** In the future, so exited memberships do not expire (TTL) during the test. */
const NOW = new Date(Date.UTC(2099, 5, 15, 12));
const LATER = new Date(NOW.getTime() + 10 * 86_400_000);

let client: MongoClient;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const SEGMENTS = [
  { id: 'recent', expression: 'events.any(timestamp occurs <= 7 days before now)', targetEntity: 'PERSON' as const },
  { id: 'vp', expression: 'jobTitle.contains("vp", false)', targetEntity: 'PERSON' as const },
  { id: 'recentVp', expression: 'inSegment("recent") and inSegment("vp")', targetEntity: 'PERSON' as const },
  { id: 'engaged', expression: 'people.count(inSegment("recent")) >= 1', targetEntity: 'ACCOUNT' as const },
];

function options(db: Db, at: Date, extra: Partial<BatchEvaluationOptions> = {}): BatchEvaluationOptions {
  // Pages of 25 members: the 120 people and their accounts span several pages.
  return { db, logger: silentLogger, now: () => at, exitedRetentionDays: 30, leaseMs: 60_000, batchSize: 25, ...extra };
}

/** A writer that throws at its `failAt`-th call, as a killed worker would stop there. */
function dyingWriter(failAt: number) {
  let calls = 0;
  return (base: MembershipWriter): MembershipWriter => ({
    appendEvents: async (events) => {
      if (++calls === failAt) throw new Error('worker killed');
      return base.appendEvents(events);
    },
    applyTransitions: async (transitions) => {
      if (++calls === failAt) throw new Error('worker killed');
      return base.applyTransitions(transitions);
    },
  });
}

/**
 * A sandbox with data, evaluated once at NOW, and a second run queued ten days later (members
 * move). The last VP is then removed from the data altogether: the next run must exit them.
 */
async function setupWithGone(): Promise<{ db: Db; gone: string }> {
  const { db } = newSandbox(client, `${PREFIX}_`);
  await writeB2bData(db, { seed: 11, now: NOW, people: 120 });
  await addSegments(db, SEGMENTS);
  await queueRun(db, 'run1', NOW);
  expect(await runEvaluation('run1', options(db, NOW))).toMatchObject({ status: 'SUCCEEDED', segmentsDone: 4 });
  const vps = await new MembershipsRepository(db).pageOfSegment('vp', { statuses: ['realized'], limit: 10_000 });
  expect(vps.length).toBeGreaterThan(1);
  const gone = vps[vps.length - 1]!.memberId;
  await db.collection<{ _id: string }>('people').deleteOne({ _id: gone });
  await queueRun(db, 'run2', LATER);
  return { db, gone };
}

const setup = async () => (await setupWithGone()).db;

const counts = (results: Array<{ segmentId: string; realized: number; existing: number; exited: number }>) =>
  results.map(({ segmentId, realized, existing, exited }) => ({ segmentId, realized, existing, exited })).sort((a, b) => a.segmentId.localeCompare(b.segmentId));

describe('a run of many segments', () => {
  it('ends, after dying at any write and running again, exactly as a run that never died', async () => {
    const clean = await setup();
    const expected = await runEvaluation('run2', options(clean, LATER));
    expect(expected).toMatchObject({ status: 'SUCCEEDED', segmentsDone: 4, error: null });
    expect(expected!.results.find((result) => result.segmentId === 'recent')!.exited).toBeGreaterThan(0);
    const expectedMemberships = await membershipState(clean);
    const expectedEvents = await eventState(clean);

    for (const failAt of [1, 2, 5, 8]) {
      const db = await setup();
      await expect(runEvaluation('run2', options(db, LATER, { wrapWriter: dyingWriter(failAt) }))).rejects.toThrow('worker killed');
      const midway = await new EvaluationRunsRepository(db).findById('run2');
      expect(midway!.status).toBe('RUNNING');
      const resumed = await runEvaluation('run2', options(db, LATER));
      expect(resumed!.status).toBe('SUCCEEDED');
      expect(await membershipState(db)).toEqual(expectedMemberships);
      expect(await eventState(db)).toEqual(expectedEvents);
      expect(counts(resumed!.results)).toEqual(counts(expected!.results));
    }
  });

  it('exits the memberships of a person who no longer exists', async () => {
    const { db, gone } = await setupWithGone();
    await runEvaluation('run2', options(db, LATER));
    expect(await new MembershipsRepository(db).find('vp', gone)).toMatchObject({ status: 'exited' });
    const people = await db.collection('people').distinct('_id');
    const current = await db.collection('segmentMemberships').countDocuments({ status: { $ne: 'exited' }, memberType: 'PERSON', memberId: { $nin: people } });
    expect(current).toBe(0);
  });

  it('agrees with the pipelines that a run of one segment uses', async () => {
    const scanned = await setup();
    await runEvaluation('run2', options(scanned, LATER));
    const scannedMembers = await new MembershipsRepository(scanned).pageOfSegment('vp', { statuses: ['realized', 'existing'], limit: 10_000 });

    const single = await setup();
    await queueRun(single, 'only-vp', LATER, ['vp']);
    expect(await runEvaluation('only-vp', options(single, LATER))).toMatchObject({ status: 'SUCCEEDED', segmentsDone: 1 });
    const pipelineMembers = await new MembershipsRepository(single).pageOfSegment('vp', { statuses: ['realized', 'existing'], limit: 10_000 });
    expect(pipelineMembers.map((row) => row.memberId)).toEqual(scannedMembers.map((row) => row.memberId));
    expect(pipelineMembers.length).toBeGreaterThan(0);
  });
});
