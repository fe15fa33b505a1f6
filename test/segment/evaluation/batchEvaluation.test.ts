/**
 * Batch evaluation runs against MongoDB, with qualifying members from the compiled
 * predicate over plain test people (see support/predicateSource.ts): the diff from
 * current memberships, the event log it writes, idempotent and crash-safe reruns,
 * `inSegment` order and what a run reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { silentLogger } from '../../../lib/logger.js';
import { EvaluationBusyError, runEvaluation, type BatchEvaluationOptions } from '../../../subgraphs/segment/evaluation/batchEvaluation.js';
import type { MembershipWriter } from '../../../subgraphs/segment/evaluation/segmentDiff.js';
import { EvaluationRunsRepository } from '../../../subgraphs/segment/memberships/evaluationRuns.repository.js';
import { MembershipEventsRepository } from '../../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { MembershipsRepository } from '../../../subgraphs/segment/memberships/memberships.repository.js';
import { SegmentEvaluationsRepository } from '../../../subgraphs/segment/memberships/segmentEvaluations.repository.js';
import { SegmentSettingsRepository } from '../../../subgraphs/segment/memberships/segmentSettings.repository.js';
import { EVALUATION_RUNS_COLLECTION, MEMBERSHIPS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../../../subgraphs/segment/memberships.layout.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { predicateSource } from './support/predicateSource.js';
import { addSegments, eventState, membershipState, newSandbox, people, putPeople, queueRun, T0 } from './support/sandbox.js';

const PREFIX = uniqueName('evb_');
const DAY = 86_400_000;
let client: MongoClient;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const sandbox = () => newSandbox(client, `${PREFIX}_`).db;
const at = (days: number) => new Date(T0.getTime() + days * DAY);

function options(db: Db, extra: Partial<BatchEvaluationOptions> = {}): BatchEvaluationOptions {
  return {
    db,
    logger: silentLogger,
    now: () => T0,
    exitedRetentionDays: 30,
    leaseMs: 60_000,
    qualifying: predicateSource(db),
    batchSize: 3,
    progressEvery: 2,
    ...extra,
  };
}

async function evaluate(db: Db, runId: string, when: Date, extra: Partial<BatchEvaluationOptions> = {}, segmentIds: string[] | null = null) {
  await queueRun(db, runId, when, segmentIds);
  return runEvaluation(runId, options(db, { now: () => when, ...extra }));
}

const statusOf = async (db: Db, segmentId: string) =>
  Object.fromEntries((await new MembershipsRepository(db).pageOfSegment(segmentId, { limit: 100 })).map((m) => [m.memberId, m.status]));

/** A writer that dies at its `failAt`-th call, counting event appends and membership writes. */
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

describe('a segment evaluated run after run', () => {
  it('enters, keeps, exits and re-enters members, writing an event only for entries and exits', async () => {
    const db = sandbox();
    await addSegments(db, [{ id: 'hot', expression: 'leadScore >= 50' }]);
    await putPeople(db, [
      { _id: 'a', leadScore: 60 },
      { _id: 'b', leadScore: 70 },
      { _id: 'c', leadScore: 10 },
      { _id: 'd' },
    ]);

    const first = await evaluate(db, 'run1', at(0));
    expect(first).toMatchObject({ status: 'SUCCEEDED', segmentsTotal: 1, segmentsDone: 1, error: null });
    expect(first!.results).toEqual([expect.objectContaining({ segmentId: 'hot', realized: 2, existing: 0, exited: 0, error: null })]);
    expect(await statusOf(db, 'hot')).toEqual({ a: 'realized', b: 'realized' });

    // a stays, b drops out, c comes in.
    await putPeople(db, [{ _id: 'a', leadScore: 60 }, { _id: 'b', leadScore: 5 }, { _id: 'c', leadScore: 90 }, { _id: 'd' }]);
    const second = await evaluate(db, 'run2', at(1));
    expect(second!.results[0]).toMatchObject({ realized: 1, existing: 1, exited: 1 });
    expect(await statusOf(db, 'hot')).toEqual({ a: 'existing', b: 'exited', c: 'realized' });
    const b = await new MembershipsRepository(db).find('hot', 'b');
    expect(b).toMatchObject({ status: 'exited', exitedAt: at(1), expiresAt: at(31), lastQualificationTime: at(0) });

    // b qualifies again; a stays (no write: it keeps the time of its last change); c is now existing.
    await putPeople(db, [{ _id: 'a', leadScore: 60 }, { _id: 'b', leadScore: 80 }, { _id: 'c', leadScore: 90 }, { _id: 'd' }]);
    const third = await evaluate(db, 'run3', at(2));
    expect(third!.results[0]).toMatchObject({ realized: 1, existing: 2, exited: 0 });
    expect(await statusOf(db, 'hot')).toEqual({ a: 'existing', b: 'realized', c: 'existing' });
    expect(await new MembershipsRepository(db).find('hot', 'b')).toMatchObject({ status: 'realized', enteredAt: at(2), exitedAt: null, expiresAt: null });
    expect(await new MembershipsRepository(db).find('hot', 'a')).toMatchObject({ lastQualificationTime: at(1), runId: 'run2' });

    expect(await eventState(db)).toEqual(
      ['hot:a:realized:run1', 'hot:b:realized:run1', 'hot:b:exited:run2', 'hot:c:realized:run2', 'hot:b:realized:run3'].sort(),
    );
    const log = await new MembershipEventsRepository(db).after(0, { limit: 100 });
    expect(log.map((event) => event.position)).toEqual([...log.map((event) => event.position)].sort((x, y) => x - y));
    expect(new Set(log.map((event) => event.position)).size).toBe(log.length);
    // Entries of a run come before the next run's in the log.
    expect(log.map((event) => `${event.memberId}:${event.status}`)).toEqual(['a:realized', 'b:realized', 'b:exited', 'c:realized', 'b:realized']);

    const events = new MembershipEventsRepository(db);
    expect(await events.wasMember('hot', 'b', at(0))).toBe(true);
    expect(await events.wasMember('hot', 'b', new Date(at(1).getTime() - 1))).toBe(true);
    expect(await events.wasMember('hot', 'b', at(1))).toBe(false);
    expect(await events.wasMember('hot', 'b', at(2))).toBe(true);
    expect(await events.wasMember('hot', 'c', at(0))).toBe(false);
    expect(await events.wasMember('hot', 'd', at(5))).toBe(false);
    expect((await events.history('hot', 'b')).map((event) => [event.status, event.occurredAt])).toEqual([
      ['realized', at(0)],
      ['exited', at(1)],
      ['realized', at(2)],
    ]);

    const sizes = await new MembershipsRepository(db).countByStatus(['hot', 'none']);
    expect(sizes).toEqual([{ realized: 1, existing: 2, exited: 0, size: 3 }, { realized: 0, existing: 0, exited: 0, size: 0 }]);
    const [last] = await new SegmentEvaluationsRepository(db).findBySegmentIds(['hot']);
    expect(last).toMatchObject({ runId: 'run3', evaluationTime: at(2), realized: 1, existing: 2, exited: 0 });
  });

  it('reports progress on the run and keeps the lease for the run only while it works', async () => {
    const db = sandbox();
    await addSegments(db, [{ id: 'fr', expression: 'country = "FR"' }, { id: 'us', expression: 'country = "US"' }]);
    await putPeople(db, people(30));
    const seen: number[] = [];
    const runs = new EvaluationRunsRepository(db);
    const run = await evaluate(db, 'run1', at(0), {
      onProgress: async () => {
        seen.push((await runs.findById('run1'))!.membersEvaluated);
      },
    });
    expect(run).toMatchObject({ status: 'SUCCEEDED', segmentsTotal: 2, segmentsDone: 2, membersEvaluated: 30, currentSegmentId: null });
    expect(run!.plan).toEqual(['fr', 'us']);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    // Released: another run may take the lease now.
    expect(await new SegmentSettingsRepository(db).claimLease('other', at(0), at(1))).toBe(true);
  });
});

describe('reruns of one run', () => {
  it('finish exactly what a clean run does, whether the first attempt died or finished', async () => {
    const setup = async () => {
      const db = sandbox();
      await addSegments(db, [{ id: 'hot', expression: 'leadScore >= 40' }, { id: 'fr', expression: 'country = "FR"' }]);
      await putPeople(db, people(40));
      await evaluate(db, 'run1', at(0));
      // Scores move: some members leave, others enter, for the second run.
      await putPeople(db, people(40).map((person) => ({ ...person, leadScore: (person.leadScore! + 25) % 100 })));
      return db;
    };
    const clean = await setup();
    const expected = await evaluate(clean, 'run2', at(1));
    const expectedMemberships = await membershipState(clean);
    const expectedEvents = await eventState(clean);
    expect(expectedEvents.filter((event) => event.endsWith(':run2')).length).toBeGreaterThan(5);

    // Die at each write of the second run in turn: after an event append, before its memberships, and so on.
    for (const failAt of [1, 2, 3, 6, 9]) {
      const db = await setup();
      await expect(evaluate(db, 'run2', at(1), { wrapWriter: dyingWriter(failAt) })).rejects.toThrow('worker killed');
      expect((await new EvaluationRunsRepository(db).findById('run2'))!.status).toBe('RUNNING');
      const resumed = await runEvaluation('run2', options(db, { now: () => at(1) }));
      expect(resumed!.status).toBe('SUCCEEDED');
      expect(resumed!.results.map(({ segmentId, realized, existing, exited }) => ({ segmentId, realized, existing, exited }))).toEqual(
        expected!.results.map(({ segmentId, realized, existing, exited }) => ({ segmentId, realized, existing, exited })),
      );
      expect(await membershipState(db)).toEqual(expectedMemberships);
      expect(await eventState(db)).toEqual(expectedEvents);
    }
  });

  it('write nothing new when the same run is evaluated again from the start', async () => {
    const db = sandbox();
    await addSegments(db, [{ id: 'hot', expression: 'leadScore >= 8' }]);
    await putPeople(db, people(20));
    await evaluate(db, 'run1', at(0));
    const memberships = await membershipState(db);
    const events = await db.collection(MEMBERSHIP_EVENTS_COLLECTION).countDocuments();
    // As if the checkpoint had been lost: the whole run is done again.
    await db.collection(EVALUATION_RUNS_COLLECTION).updateOne({ _id: 'run1' as never }, { $set: { status: 'RUNNING', results: [], segmentsDone: 0, membersDone: 0 } });
    const again = await runEvaluation('run1', options(db, { now: () => at(0) }));
    expect(again!.results[0]).toMatchObject({ realized: 12, existing: 0, exited: 0 });
    expect(await membershipState(db)).toEqual(memberships);
    expect(await db.collection(MEMBERSHIP_EVENTS_COLLECTION).countDocuments()).toBe(events);
    // A finished run is not run again.
    const before = await db.collection(MEMBERSHIPS_COLLECTION).find().toArray();
    expect(await runEvaluation('run1', options(db, { qualifying: () => { throw new Error('not called'); } }))).toMatchObject({ status: 'SUCCEEDED' });
    expect(await db.collection(MEMBERSHIPS_COLLECTION).find().toArray()).toEqual(before);
  });

  it('wait while another run of the sandbox holds the lease', async () => {
    const db = sandbox();
    await addSegments(db, [{ id: 'hot', expression: 'leadScore >= 40' }]);
    await new SegmentSettingsRepository(db).claimLease('nightly', at(0), at(1));
    await queueRun(db, 'mine', at(0));
    await expect(runEvaluation('mine', options(db, { now: () => at(0) }))).rejects.toBeInstanceOf(EvaluationBusyError);
    expect(await new EvaluationRunsRepository(db).findById('mine')).toMatchObject({ status: 'QUEUED' });
    // Once the other run's lease has expired, this one proceeds.
    expect(await runEvaluation('mine', options(db, { now: () => at(2) }))).toMatchObject({ status: 'SUCCEEDED' });
  });
});

describe('segments of segments', () => {
  it('evaluates a segment after the segments it uses, in the same run', async () => {
    const db = sandbox();
    // Listed (and stored) first, but it reads the other's memberships.
    await addSegments(db, [
      { id: 'a_frHot', expression: 'inSegment("z_hot") and country = "FR"' },
      { id: 'z_hot', expression: 'leadScore >= 50' },
    ]);
    await putPeople(db, people(12).map((person, i) => ({ ...person, leadScore: i * 10 })));
    const run = await evaluate(db, 'run1', at(0));
    expect(run).toMatchObject({ status: 'SUCCEEDED', plan: ['z_hot', 'a_frHot'] });
    expect(Object.keys(await statusOf(db, 'z_hot'))).toEqual(['p00005', 'p00006', 'p00007', 'p00008', 'p00009', 'p00010', 'p00011']);
    expect(Object.keys(await statusOf(db, 'a_frHot'))).toEqual(['p00006', 'p00009']);
  });

  it('fails a run whose segments depend on each other in a cycle, changing nothing', async () => {
    const db = sandbox();
    await addSegments(db, [
      { id: 'x', expression: 'leadScore >= 1' },
      { id: 'y', expression: 'inSegment("x")' },
    ]);
    // A cycle that create and update would refuse, written behind their back.
    await db.collection('segments').updateOne({ _id: 'x' as never }, { $set: { expression: 'inSegment("y")' } });
    await putPeople(db, people(5));
    const run = await evaluate(db, 'run1', at(0));
    expect(run).toMatchObject({ status: 'FAILED', segmentsDone: 0 });
    expect(run!.error).toMatch(/cycle \((x -> y -> x|y -> x -> y)\)/);
    expect(await db.collection(MEMBERSHIPS_COLLECTION).countDocuments()).toBe(0);
  });

  it('reports a segment that does not compile and evaluates the others', async () => {
    const db = sandbox();
    await addSegments(db, [{ id: 'bad', expression: 'leadScore >=' }, { id: 'good', expression: 'leadScore >= 90' }]);
    await putPeople(db, people(100));
    const run = await evaluate(db, 'run1', at(0));
    expect(run).toMatchObject({ status: 'FAILED', segmentsDone: 2 });
    expect(run!.error).toMatch(/^1 segment\(s\) could not be evaluated: bad \(The expression does not compile: .*line 1/);
    expect(run!.results.find((result) => result.segmentId === 'good')).toMatchObject({ realized: 10, error: null });
  });

  it('evaluates only the segments asked for', async () => {
    const db = sandbox();
    await addSegments(db, [{ id: 'one', expression: 'leadScore >= 90' }, { id: 'two', expression: 'leadScore >= 95' }]);
    await putPeople(db, people(100));
    const run = await evaluate(db, 'run1', at(0), {}, ['two', 'missing']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', plan: ['two'], segmentsTotal: 1 });
    expect(await new MembershipsRepository(db).countByStatus(['one', 'two'])).toEqual([
      { realized: 0, existing: 0, exited: 0, size: 0 },
      { realized: 5, existing: 0, exited: 0, size: 5 },
    ]);
  });
});
