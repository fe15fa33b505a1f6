/**
 * `segmentMembershipChanged` through the gateway with a real graphql-ws client:
 * members' fields from the profile and account subgraphs, resuming from a
 * cursor exactly once, commits out of position order, expired cursors, and
 * `audienceSizeChanged` following a batch evaluation.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { encodeCursor } from '../../subgraphs/segment/live/cursor.js';
import { liveClient, type LiveClient } from './liveClient.js';
import { EventLog, MEMBERSHIP_CHANGED, createPersonWithAccount, createSegment, type MembershipChanged } from './support.js';

let platform: TestPlatform;
let client: MongoClient;
const clients: LiveClient[] = [];

beforeAll(async () => {
  [platform, client] = await Promise.all([startTestPlatform({ worker: true }), connectTestClient()]);
});

afterAll(async () => {
  await Promise.all(clients.map((live) => live.dispose()));
  await client?.close();
  await platform?.stop();
});

async function connect(sandbox: string): Promise<LiveClient> {
  const live = liveClient(platform.wsUrl, await platform.connectionParams(sandbox, 'viewer'));
  clients.push(live);
  return live;
}

/**
 * A cursor for "everything from now on": subscribing with it cannot miss an event
 * written before the subscription reaches the segment subgraph.
 */
async function cursorNow(log: EventLog): Promise<string> {
  return encodeCursor(await log.repository.lastPosition());
}

describe('segmentMembershipChanged', () => {
  it('delivers a realized event with the member\'s fields from the profile and account subgraphs', async () => {
    const sandbox = uniqueName('live-');
    const { personId } = await createPersonWithAccount(
      platform,
      sandbox,
      { firstName: 'Ada', workEmail: 'ada@engines.example', jobTitle: 'VP Engineering' },
      { name: 'Analytical Engines', domain: 'engines.example', industry: 'Software' },
    );
    const segmentId = await createSegment(platform, sandbox, 'VPs');
    const log = new EventLog(client, platform, sandbox);
    const live = await connect(sandbox);
    const changes = live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: await cursorNow(log) });
    await log.append(log.event(segmentId, personId));

    const [event] = await changes.take(1);
    expect(event!.segmentMembershipChanged).toMatchObject({
      status: 'REALIZED',
      memberId: personId,
      segment: { id: segmentId, name: 'VPs' },
      profile: { id: personId, workEmail: 'ada@engines.example', jobTitle: 'VP Engineering', account: { name: 'Analytical Engines', industry: 'Software' } },
      account: null,
    });
    expect(typeof event!.segmentMembershipChanged.cursor).toBe('string');
    expect(changes.errors).toEqual([]);
  });

  it('resumes from a cursor: every missed event once, in order, then live ones without a gap', async () => {
    const sandbox = uniqueName('live-');
    const segmentId = await createSegment(platform, sandbox, 'Resumable');
    const log = new EventLog(client, platform, sandbox);
    const first = await connect(sandbox);
    const before = first.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: await cursorNow(log) });
    await log.append(log.event(segmentId, 'prof_a'));
    const [seen] = await before.take(1);
    await first.dispose();

    // Missed while disconnected, with another segment's event in between.
    const other = await createSegment(platform, sandbox, 'Other');
    await log.append(log.event(segmentId, 'prof_b'), log.event(other, 'prof_x'), log.event(segmentId, 'prof_a', 'exited'));

    const second = await connect(sandbox);
    const resumed = second.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: seen!.segmentMembershipChanged.cursor });
    await resumed.take(2);
    await log.append(log.event(segmentId, 'prof_c'));
    const events = (await resumed.take(3)).map((event) => event.segmentMembershipChanged);
    expect(events.map((event) => [event.memberId, event.status])).toEqual([
      ['prof_b', 'REALIZED'],
      ['prof_a', 'EXITED'],
      ['prof_c', 'REALIZED'],
    ]);
    // One more event proves nothing else was queued before it.
    await log.append(log.event(segmentId, 'prof_d'));
    await resumed.take(4);
    expect(resumed.events.map((event) => event.segmentMembershipChanged.memberId)).toEqual(['prof_b', 'prof_a', 'prof_c', 'prof_d']);
    expect(new Set(resumed.events.map((event) => event.segmentMembershipChanged.cursor)).size).toBe(4);
  });

  it('delivers in position order when two writers commit out of order, and skips neither', async () => {
    const sandbox = uniqueName('live-');
    const segmentId = await createSegment(platform, sandbox, 'Concurrent');
    const log = new EventLog(client, platform, sandbox);
    const live = await connect(sandbox);
    const changes = live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: await cursorNow(log) });
    await log.append(log.event(segmentId, 'prof_0'));
    await changes.take(1);

    // Positions p and p+1 are taken in order; p+1 commits first.
    await log.appendOutOfOrder(log.event(segmentId, 'prof_low'), log.event(segmentId, 'prof_high'));
    const events = (await changes.take(3)).map((event) => event.segmentMembershipChanged.memberId);
    expect(events).toEqual(['prof_0', 'prof_low', 'prof_high']);

    // The last cursor resumes after both.
    const again = await connect(sandbox);
    const resumed = again.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: changes.events[2]!.segmentMembershipChanged.cursor });
    await log.append(log.event(segmentId, 'prof_next'));
    expect((await resumed.take(1))[0]!.segmentMembershipChanged.memberId).toBe('prof_next');
  });

  it('answers CURSOR_EXPIRED, naming the oldest position held, for a cursor older than the retained log', async () => {
    const sandbox = uniqueName('live-');
    const segmentId = await createSegment(platform, sandbox, 'Retained');
    const log = new EventLog(client, platform, sandbox);
    await log.append(log.event(segmentId, 'prof_1'), log.event(segmentId, 'prof_2'), log.event(segmentId, 'prof_3'));
    const [, , third] = await log.repository.after(0, { segmentId, limit: 3 });
    await log.trimThrough(third!.position - 1);

    const live = await connect(sandbox);
    const expired = live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: encodeCursor(third!.position - 2) });
    const [error] = (await expired.failed()) as Array<{ message: string; extensions: { code: string; details: { oldestPosition: number; resumeCursor: string } } }>;
    expect(error!.extensions.code).toBe('CURSOR_EXPIRED');
    expect(error!.extensions.details.oldestPosition).toBe(third!.position);
    expect(error!.message).toContain(String(third!.position));

    // The cursor it names resumes from the oldest event held.
    const resumed = live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: error!.extensions.details.resumeCursor });
    expect((await resumed.take(1))[0]!.segmentMembershipChanged.memberId).toBe('prof_3');
  });

  it('refuses a cursor it never handed out and an unknown segment', async () => {
    const sandbox = uniqueName('live-');
    const segmentId = await createSegment(platform, sandbox, 'Cursors');
    const live = await connect(sandbox);
    const garbage = live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: 'not-a-cursor' });
    const missing = live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId: 'seg_missing' });
    const codeOf = async (subscription: { failed(): Promise<unknown> }) => ((await subscription.failed()) as Array<{ extensions: { code: string } }>)[0]!.extensions.code;
    expect(await codeOf(garbage)).toBe('BAD_USER_INPUT');
    expect(await codeOf(missing)).toBe('NOT_FOUND');
  });
});

describe('batch evaluation, live', () => {
  it('streams the members a batch evaluation realizes and the audience size after it', async () => {
    const sandbox = uniqueName('live-');
    const { personId } = await createPersonWithAccount(
      platform,
      sandbox,
      { firstName: 'Grace', workEmail: 'grace@navy.example', jobTitle: 'VP Operations' },
      { name: 'Navy', domain: 'navy.example', industry: 'Government' },
    );
    const segmentId = await createSegment(platform, sandbox, 'VPs');
    const log = new EventLog(client, platform, sandbox);
    const live = await connect(sandbox);
    const changes = live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after: await cursorNow(log) });
    const sizes = live.subscribe<{ audienceSizeChanged: { segmentId: string; size: number; at: string } }>(
      'subscription ($id: ID!) { audienceSizeChanged(segmentId: $id) { segmentId size at } }',
      { id: segmentId },
    );
    expect((await sizes.take(1))[0]!.audienceSizeChanged).toMatchObject({ segmentId, size: 0 });

    const run = await platform.query('mutation ($ids: [ID!]) { evaluateSegments(ids: $ids) { id } }', { ids: [segmentId] }, { sandbox });
    expect(run.errors).toBeUndefined();
    const [event] = await changes.take(1);
    expect(event!.segmentMembershipChanged).toMatchObject({ status: 'REALIZED', memberId: personId, profile: { workEmail: 'grace@navy.example', account: { name: 'Navy' } } });
    expect((await sizes.take(2))[1]!.audienceSizeChanged).toMatchObject({ segmentId, size: 1 });
  });
});
