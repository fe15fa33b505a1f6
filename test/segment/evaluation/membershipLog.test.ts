/**
 * The memberships storage contract: indexes (the exited-membership TTL among them),
 * event positions handed out in ranges, idempotent appends, and "was X in S at T".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { MembershipEventsRepository, type NewMembershipEvent } from '../../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { MembershipsRepository } from '../../../subgraphs/segment/memberships/memberships.repository.js';
import { MEMBERSHIPS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION, MEMBERSHIP_EVENT_POSITIONS_COLLECTION } from '../../../subgraphs/segment/memberships.layout.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { newSandbox, T0 } from './support/sandbox.js';

const PREFIX = uniqueName('evl_');
let client: MongoClient;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const event = (memberId: string, status: 'realized' | 'exited', minutes: number, runId = `run${minutes}`): NewMembershipEvent => ({
  segmentId: 'seg',
  memberId,
  memberType: 'PERSON',
  status,
  occurredAt: at(minutes),
  cause: { kind: 'batch', runId },
});

describe('membership storage', () => {
  it('has the indexes paging, lookups, the log and the retention need', async () => {
    const { db } = newSandbox(client, `${PREFIX}_`);
    await new MembershipsRepository(db).ensureIndexes();
    await new MembershipEventsRepository(db).ensureIndexes();
    const memberships = await db.collection(MEMBERSHIPS_COLLECTION).indexes();
    expect(memberships.find((index) => index.name === 'expiresAt_ttl')).toMatchObject({ key: { expiresAt: 1 }, expireAfterSeconds: 0 });
    expect(memberships.map((index) => index.key)).toEqual(
      expect.arrayContaining([{ segmentId: 1, status: 1, memberId: 1 }, { memberId: 1, status: 1, segmentId: 1 }]),
    );
    const events = await db.collection(MEMBERSHIP_EVENTS_COLLECTION).indexes();
    expect(events.map((index) => index.key)).toEqual(
      expect.arrayContaining([{ position: 1 }, { segmentId: 1, position: 1 }, { memberId: 1, segmentId: 1, occurredAt: 1 }]),
    );
  });

  it('numbers events in append order without gaps, and skips events already logged without spending a position', async () => {
    const { db } = newSandbox(client, `${PREFIX}_`);
    const log = new MembershipEventsRepository(db);
    await log.ensureIndexes();
    expect(await log.lastPosition()).toBe(0);
    expect(await log.append([event('a', 'realized', 0), event('b', 'realized', 0), event('c', 'realized', 0)])).toBe(3);
    expect(await log.lastPosition()).toBe(3);
    // A retried batch: two events already there, one new.
    expect(await log.append([event('b', 'realized', 0), event('d', 'realized', 0), event('a', 'realized', 0)])).toBe(1);
    expect(await log.append([event('a', 'exited', 5)])).toBe(1);
    const all = await log.after(0, { limit: 10 });
    expect(all.map((e) => [e.memberId, e.status, e.position])).toEqual([
      ['a', 'realized', 1],
      ['b', 'realized', 2],
      ['c', 'realized', 3],
      ['d', 'realized', 4],
      ['a', 'exited', 5],
    ]);
    expect(await log.lastPosition()).toBe(5);
    expect((await log.after(3, { limit: 10, segmentId: 'seg' })).map((e) => e.position)).toEqual([4, 5]);
    expect(await log.after(3, { limit: 10, segmentId: 'other' })).toEqual([]);
    expect(await db.collection(MEMBERSHIP_EVENT_POSITIONS_COLLECTION).countDocuments()).toBe(1);
  });

  it('answers whether a member was in a segment at a time, from the log', async () => {
    const { db } = newSandbox(client, `${PREFIX}_`);
    const log = new MembershipEventsRepository(db);
    await log.ensureIndexes();
    await log.append([event('x', 'realized', 10)]);
    await log.append([event('x', 'exited', 20)]);
    await log.append([event('x', 'realized', 30)]);
    const cases: Array<[number, boolean]> = [[9, false], [10, true], [19, true], [20, false], [29, false], [30, true], [1000, true]];
    for (const [minutes, expected] of cases) expect(await log.wasMember('seg', 'x', at(minutes))).toBe(expected);
    expect(await log.wasMember('seg', 'nobody', at(30))).toBe(false);
    expect(await log.wasMember('other', 'x', at(30))).toBe(false);
    expect((await log.history('seg', 'x')).map((e) => e.status)).toEqual(['realized', 'exited', 'realized']);
  });

  it('pages a segment members by status in memberId order and lists members memberships in key order', async () => {
    const { db } = newSandbox(client, `${PREFIX}_`);
    const memberships = new MembershipsRepository(db);
    await memberships.ensureIndexes();
    const enter = (segmentId: string, memberId: string) => ({ kind: 'enter' as const, from: null, segmentId, memberId, memberType: 'PERSON' as const, runId: 'r1', at: at(0) });
    await memberships.applyTransitions([enter('s1', 'm3'), enter('s1', 'm1'), enter('s1', 'm2'), enter('s2', 'm1'), enter('s1', 'm4')]);
    await memberships.applyTransitions([
      { kind: 'stay', segmentId: 's1', memberId: 'm1', runId: 'r2', at: at(1) },
      { kind: 'exit', segmentId: 's1', memberId: 'm2', runId: 'r2', at: at(1), expiresAt: at(100) },
    ]);
    const page = (statuses: Array<'realized' | 'existing' | 'exited'>, after?: string) =>
      memberships.pageOfSegment('s1', { statuses, limit: 2, after }).then((rows) => rows.map((row) => row.memberId));
    expect(await page(['realized', 'existing'])).toEqual(['m1', 'm3']);
    expect(await page(['realized', 'existing'], 'm3')).toEqual(['m4']);
    expect(await page(['exited'])).toEqual(['m2']);
    expect(await page([])).toEqual(['m1', 'm2']);
    const lists = await memberships.listForMembers(['m2', 'nobody', 'm1'], ['realized', 'existing']);
    expect(lists.map((list) => list.map((m) => `${m.segmentId}:${m.status}`))).toEqual([[], [], ['s1:existing', 's2:realized']]);
    expect(await memberships.deleteSegment('s1')).toBe(4);
    expect(await memberships.countByStatus(['s1', 's2'])).toEqual([
      { realized: 0, existing: 0, exited: 0, size: 0 },
      { realized: 1, existing: 0, exited: 0, size: 1 },
    ]);
  });
});
