/**
 * The streaming evaluator in this process on the test MongoDB, with a fake clock: data
 * changes move members in and out within a batch, account and opportunity changes reach
 * the people and accounts that read them, a time window closes at its moment, and a batch
 * evaluation after a quiet period finds nothing left to change.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import type { RunningWorkerService } from '../../../lib/jobs.js';
import { silentLogger } from '../../../lib/logger.js';
import { EventsRepository } from '../../../subgraphs/profile/events.repository.js';
import { runEvaluation } from '../../../subgraphs/segment/evaluation/batchEvaluation.js';
import { EvaluationRunsRepository } from '../../../subgraphs/segment/memberships/evaluationRuns.repository.js';
import { readStreamingStatus } from '../../../subgraphs/segment/streaming/index.js';
import { PartitionsRepository } from '../../../subgraphs/segment/streaming/partitions.repository.js';
import { countCommands } from '../memberships/support.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import {
  DAY,
  addEvent,
  addSegment,
  caughtUp,
  eventLog,
  eventually,
  linkPerson,
  members,
  nextTurn,
  putAccount,
  putOpportunity,
  putPerson,
  streamingSandbox,
} from './support.js';

const PREFIX = uniqueName('strm_');
const T0 = new Date('2099-03-01T12:00:00.000Z');
let client: MongoClient;
const running: RunningWorkerService[] = [];

beforeAll(async () => {
  client = await connectTestClient();
});
afterEach(async () => {
  for (const service of running.splice(0)) await service.stop();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const PRICING = 'events.count(type = "web.pageView" and url.contains("/pricing") and timestamp occurs <= 30 days before now) >= 3';

describe('streaming evaluation', () => {
  it('exits a member at the moment its third pricing visit turns 31 days old', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'pricing', PRICING);
    await putPerson(box.db, 'p1', { jobTitle: 'VP Sales' });
    running.push(await box.start());
    // Three visits: 1, 5 and 10 days ago. The window closes for the oldest 30 days after it (plus one millisecond).
    const visits = [1, 5, 10].map((days) => new Date(T0.getTime() - days * DAY));
    for (const timestamp of visits) await addEvent(box.db, 'p1@example.com', { type: 'web.pageView', url: 'https://acme.example/pricing', timestamp });
    await eventually('p1 to enter', () => members(box.db, 'pricing'), (ids) => ids.includes('p1'));

    const closes = new Date(visits[2]!.getTime() + 30 * DAY + 1);
    box.clock.set(new Date(closes.getTime() - 1));
    // One millisecond before, it is still in (the evaluator had every chance to act on a wrong wake-up).
    await nextTurn(box);
    expect(await members(box.db, 'pricing')).toEqual(['p1']);
    box.clock.set(closes);
    await eventually('p1 to exit', () => members(box.db, 'pricing'), (ids) => ids.length === 0);

    const log = await eventually('two events', () => eventLog(box.db, 'pricing'), (events) => events.length === 2);
    expect(log.map(({ status, kind }) => `${status}:${kind}`)).toEqual(['realized:change', 'exited:wakeUp']);
    expect(log[1]!.occurredAt).toEqual(closes);
  });

  it("moves an account's people in and out of a person segment as its revenue changes", async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'bigCo', 'account.annualRevenue >= 100000000');
    await putAccount(box.db, 'a1', { name: 'Acme', annualRevenue: 50_000_000 });
    await putPerson(box.db, 'p1', {});
    await putPerson(box.db, 'p2', {});
    await linkPerson(box.db, 'a1', 'p1');
    await linkPerson(box.db, 'a1', 'p2');
    running.push(await box.start());
    await caughtUp(box);

    await putAccount(box.db, 'a1', { annualRevenue: 200_000_000 });
    await eventually('both people to enter', () => members(box.db, 'bigCo'), (ids) => ids.join() === 'p1,p2');
    await putAccount(box.db, 'a1', { annualRevenue: 90_000_000 });
    await eventually('both people to exit', () => members(box.db, 'bigCo'), (ids) => ids.length === 0);

    // A membership changes first, its event follows.
    const log = await eventually('four events', () => eventLog(box.db, 'bigCo'), (events) => events.length === 4);
    expect(log.map(({ memberId, status, collection }) => `${memberId}:${status}:${collection}`).sort()).toEqual([
      'p1:exited:accounts',
      'p1:realized:accounts',
      'p2:exited:accounts',
      'p2:realized:accounts',
    ]);
  });

  it('moves an account in and out of an account audience as an opportunity stage changes', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'openDeals', 'opportunities.any(stage notIn ["Closed Won", "Closed Lost"])', 'ACCOUNT');
    await putAccount(box.db, 'a1', { name: 'Acme' });
    await putOpportunity(box.db, 'o1', 'a1', { stage: 'Closed Lost' });
    running.push(await box.start());
    await caughtUp(box);
    expect(await members(box.db, 'openDeals')).toEqual([]);

    await putOpportunity(box.db, 'o1', 'a1', { stage: 'Negotiation' });
    await eventually('the account to enter', () => members(box.db, 'openDeals'), (ids) => ids.join() === 'a1');
    await putOpportunity(box.db, 'o1', 'a1', { stage: 'Closed Won' });
    await eventually('the account to exit', () => members(box.db, 'openDeals'), (ids) => ids.length === 0);
    const log = await eventually('two events', () => eventLog(box.db, 'openDeals'), (events) => events.length === 2);
    expect(log.map(({ status, collection }) => `${status}:${collection}`)).toEqual(['realized:opportunities', 'exited:opportunities']);
  });

  it('moves an account out of an account audience when its opportunity moves to another account', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'openDeals', 'opportunities.any(stage = "Negotiation")', 'ACCOUNT');
    await putAccount(box.db, 'a1', { name: 'Acme' });
    await putAccount(box.db, 'a2', { name: 'Globex' });
    await putOpportunity(box.db, 'o1', 'a1', { stage: 'Negotiation' });
    running.push(await box.start());
    await caughtUp(box);
    expect(await members(box.db, 'openDeals')).toEqual(['a1']);

    // As the account subgraph writes a move: the new account, and the one it left.
    await putOpportunity(box.db, 'o1', 'a2', { previousAccountId: 'a1' });
    await eventually('a1 to exit and a2 to enter', () => members(box.db, 'openDeals'), (ids) => ids.join() === 'a2');
    const log = await eventually('three events', () => eventLog(box.db, 'openDeals'), (events) => events.length === 3);
    expect(log.map(({ memberId, status }) => `${memberId}:${status}`).sort()).toEqual(['a1:exited', 'a1:realized', 'a2:realized']);
  });

  it('follows inSegment chains and person changes into account audiences', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'vp', 'jobTitle.contains("vp", false)');
    await addSegment(box.db, 'vpUS', 'inSegment("vp") and country = "US"');
    await addSegment(box.db, 'withVp', 'people.any(inSegment("vp"))', 'ACCOUNT');
    await putAccount(box.db, 'a1', { name: 'Acme' });
    await putPerson(box.db, 'p1', { jobTitle: 'Engineer', country: 'US' });
    await linkPerson(box.db, 'a1', 'p1');
    running.push(await box.start());
    await caughtUp(box);

    await putPerson(box.db, 'p1', { jobTitle: 'VP Engineering', country: 'US' });
    await eventually('p1 in vpUS and a1 in withVp', async () => [await members(box.db, 'vpUS'), await members(box.db, 'withVp')], ([a, b]) => a!.join() === 'p1' && b!.join() === 'a1');
    expect(await members(box.db, 'vp')).toEqual(['p1']);
  });

  it('carries a window closing into a segment added later that uses it with inSegment', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'pricing', PRICING);
    await putPerson(box.db, 'p1', { country: 'US' });
    running.push(await box.start());
    const visits = [1, 5, 10].map((days) => new Date(T0.getTime() - days * DAY));
    for (const timestamp of visits) await addEvent(box.db, 'p1@example.com', { type: 'web.pageView', url: 'https://acme.example/pricing', timestamp });
    await eventually('p1 to enter pricing', () => members(box.db, 'pricing'), (ids) => ids.includes('p1'));

    // Added while the evaluator runs: from now on its own changes to `pricing` matter to another segment.
    await addSegment(box.db, 'pricingUS', 'inSegment("pricing") and country = "US"');
    await eventually('p1 to enter pricingUS', () => members(box.db, 'pricingUS'), (ids) => ids.includes('p1'));

    // The wake-up re-evaluates `pricing` alone; the exit it writes brings `pricingUS` along.
    box.clock.set(new Date(visits[2]!.getTime() + 30 * DAY + 1));
    await eventually('p1 to exit both', async () => [await members(box.db, 'pricing'), await members(box.db, 'pricingUS')], ([a, b]) => a!.length === 0 && b!.length === 0);
    // A turn writes memberships before it appends their events: wait for the turn to end before reading the log.
    await nextTurn(box);
    const log = await eventLog(box.db, 'pricingUS');
    expect(log.map(({ status }) => status)).toEqual(['realized', 'exited']);
  });

  it("counts a person's history with each new event, acts on the events that can change a segment, and follows an event sent again under another person", async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'noForms', 'events.any(type = "web.pageView") and not events.any(type = "form.submit")');
    await addSegment(box.db, 'opens', 'events.count(type = "email.open") >= 2');
    await putPerson(box.db, 'p1', {});
    await putPerson(box.db, 'p2', {});
    await addEvent(box.db, 'p1@example.com', { type: 'email.open', timestamp: new Date(T0.getTime() - DAY) });
    running.push(await box.start());
    await caughtUp(box);

    // The first open was read with p1's history; the second arrives on the stream and is counted with it.
    await addEvent(box.db, 'p1@example.com', { type: 'web.pageView', url: '/pricing', timestamp: T0 });
    await eventually('p1 to enter noForms', () => members(box.db, 'noForms'), (ids) => ids.join() === 'p1');
    const sent = new EventsRepository(box.db);
    const secondOpen = (email: string) => ({ id: 'open-2', identity: { namespace: 'Email', value: email }, identityKey: `email:${email}`, type: 'email.open', timestamp: T0, ingestedAt: T0 });
    await sent.write([secondOpen('p1@example.com')]);
    await eventually('p1 to enter opens', () => members(box.db, 'opens'), (ids) => ids.join() === 'p1');

    // A form submission can change only noForms: p1 leaves it and stays in opens.
    await addEvent(box.db, 'p1@example.com', { type: 'form.submit', timestamp: T0 });
    await eventually('p1 to exit noForms', () => members(box.db, 'noForms'), (ids) => ids.length === 0);
    expect(await members(box.db, 'opens')).toEqual(['p1']);

    // p2's one open is remembered once p2 is evaluated. The second open, sent again with p2's identity, moves to p2:
    // p1 leaves opens, p2 enters it.
    await addEvent(box.db, 'p2@example.com', { type: 'email.open', timestamp: T0 });
    await nextTurn(box);
    await sent.write([secondOpen('p2@example.com')]);
    await eventually('p2 to replace p1 in opens', () => members(box.db, 'opens'), (ids) => ids.join() === 'p2');
    const log = await eventLog(box.db);
    expect(log.map(({ segmentId, memberId, status }) => `${segmentId}:${memberId}:${status}`).sort()).toEqual([
      'noForms:p1:exited',
      'noForms:p1:realized',
      'opens:p1:exited',
      'opens:p1:realized',
      'opens:p2:realized',
    ]);
  });

  it('sees another writer change a membership it remembers, and evaluates the member from what is stored', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'opens', 'events.any(type = "email.open")');
    await putPerson(box.db, 'p1', {});
    running.push(await box.start());
    await caughtUp(box);
    await addEvent(box.db, 'p1@example.com', { type: 'email.open', timestamp: T0 });
    await eventually('p1 to enter', () => members(box.db, 'opens'), (ids) => ids.join() === 'p1');
    // A second open: p1 stays, now an existing member, as the evaluator remembers it.
    await addEvent(box.db, 'p1@example.com', { type: 'email.open', timestamp: T0 });
    await eventually('p1 to be existing', () => box.db.collection('segmentMemberships').findOne({ _id: 'opens:p1' as never }), (doc) => doc?.status === 'existing');

    // Another writer exits p1 (as a batch run working from older data would): streaming reads what is stored and brings p1 back.
    await box.db.collection('segmentMemberships').updateOne({ _id: 'opens:p1' as never }, { $set: { status: 'exited', runId: 'run:other', exitedAt: T0 } });
    await eventually('p1 to enter again', () => box.db.collection('segmentMemberships').findOne({ _id: 'opens:p1' as never }), (doc) => doc?.status === 'realized');
  });

  it('reports itself behind while a new segment is evaluated over every member, and caught up after', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    const people = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    for (const id of people) await putPerson(box.db, id, { jobTitle: 'VP' });
    // One member per page: the pass takes a turn per person, each saving the status the API shows.
    running.push(await box.start({ memberChunk: 1 }));
    await caughtUp(box);
    await addSegment(box.db, 'vps', 'jobTitle = "VP"');
    const partitions = new PartitionsRepository(box.databases.platform());
    const midPass: Array<{ after: string | null; lagMs: number }> = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const state = await partitions.read(box.sandbox);
      const pass = state?.passes.find((each) => each.segmentIds?.includes('vps'));
      if (pass) midPass.push({ after: pass.after, lagMs: state!.status.lagMs });
      else if (midPass.length > 0) break;
    }
    // Pages past the first come from turns that read no change: only the pass can say the evaluation is behind.
    const later = midPass.filter(({ after }) => after !== null && after >= 'p05');
    expect(later.length).toBeGreaterThan(0);
    expect(later.every(({ lagMs }) => lagMs > 0)).toBe(true);
    await eventually('every VP to be a member', () => members(box.db, 'vps'), (ids) => ids.length === people.length);
    await eventually('a caught-up status', () => readStreamingStatus(box.databases.platform(), box.sandbox, new Date()), (status) => status.lagMs === 0 && status.pendingChanges === 0);
  });

  it('reads nothing for changes to people while no person segment exists, and evaluates them once one does', async () => {
    const watched = await connectTestClient({ monitorCommands: true });
    try {
      const box = await streamingSandbox(watched, PREFIX, T0);
      const commands = countCommands(watched, box.db.databaseName);
      await addSegment(box.db, 'bigCo', 'annualRevenue >= 100000000', 'ACCOUNT');
      running.push(await box.start());
      await caughtUp(box);
      commands.clear();
      for (let i = 0; i < 10; i++) await putPerson(box.db, `p${i}`, { jobTitle: 'VP' });
      await eventually('the people changes to be read', () => readStreamingStatus(box.databases.platform(), box.sandbox, new Date()), (status) => status.lastChangeAt !== null && status.lagMs === 0);
      expect([...commands.keys()].filter((command) => /segmentMemberships|streamingWakeUps|^find people/.test(command))).toEqual([]);
      await addSegment(box.db, 'vps', 'jobTitle = "VP"');
      await eventually('the people to enter the new segment', () => members(box.db, 'vps'), (ids) => ids.length === 10);
    } finally {
      for (const service of running.splice(0)) await service.stop();
      await watched.close();
    }
  });

  it('leaves nothing for a batch evaluation to change after a quiet period', async () => {
    const box = await streamingSandbox(client, PREFIX, T0);
    await addSegment(box.db, 'pricing', PRICING);
    await addSegment(box.db, 'bigCo', 'account.annualRevenue >= 100000000');
    await addSegment(box.db, 'engaged', 'people.count(events.any(type = "email.open")) >= 1', 'ACCOUNT');
    running.push(await box.start());
    for (let i = 0; i < 20; i++) {
      await putPerson(box.db, `p${i}`, { jobTitle: 'VP' });
      await putAccount(box.db, `a${i % 5}`, { annualRevenue: (i % 5) * 60_000_000 });
      if (i < 15) await linkPerson(box.db, `a${i % 5}`, `p${i}`);
      for (let k = 0; k < (i % 4) + 1; k++) {
        await addEvent(box.db, `p${i}@example.com`, { type: k % 2 ? 'email.open' : 'web.pageView', url: '/pricing', timestamp: new Date(T0.getTime() - (k * 9 + 1) * DAY) });
      }
    }
    await eventually('streaming to catch up', async () => (await members(box.db, 'pricing')).length + (await members(box.db, 'bigCo')).length, (n) => n > 0);
    await eventually(
      'a quiet status',
      async () => {
        const status = await readStreamingStatus(box.databases.platform(), box.sandbox, new Date());
        return status.pendingChanges === 0 && status.lagMs === 0 && status.lastChangeAt !== null;
      },
      (quiet) => quiet,
    );
    for (const service of running.splice(0)) await service.stop();
    const before = await eventLog(box.db);

    const runs = new EvaluationRunsRepository(box.db);
    await runs.ensureIndexes();
    await runs.insertQueued({ id: 'nightly', trigger: 'NIGHTLY', segmentIds: null, evaluationTime: T0, createdAt: T0 });
    const run = await runEvaluation('nightly', { db: box.db, logger: silentLogger, now: () => T0, exitedRetentionDays: 30, leaseMs: 60_000 });
    expect(run?.status).toBe('SUCCEEDED');
    const changed = run!.results.map(({ segmentId, realized, exited }) => ({ segmentId, realized, exited })).sort((a, b) => a.segmentId.localeCompare(b.segmentId));
    expect(changed).toEqual(['bigCo', 'engaged', 'pricing'].map((segmentId) => ({ segmentId, realized: 0, exited: 0 })));
    expect(await eventLog(box.db)).toEqual(before);
  });
});
