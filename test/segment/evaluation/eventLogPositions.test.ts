/**
 * The membership event log's positions: gap-free, and visible in order, whatever
 * appends run at once from several processes, repeat themselves, or die halfway.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERSHIP_EVENT_POSITIONS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../../../subgraphs/segment/memberships.layout.js';
import { MembershipEventsRepository, type NewMembershipEvent } from '../../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { refusalWatchingClock } from '../../support/refusalWatchingClock.js';

const PREFIX = uniqueName('evlog_');
let clients: MongoClient[];
beforeAll(async () => {
  clients = await Promise.all([connectTestClient(), connectTestClient()]);
});
afterAll(async () => {
  await dropDatabasesWithPrefix(clients[0]!, PREFIX);
  await Promise.all(clients.map((client) => client.close()));
});

let counter = 0;
const databaseName = () => `${PREFIX}${++counter}`;
const AT = new Date('2099-01-01T00:00:00.000Z');
const events = (runId: string, members: string[]): NewMembershipEvent[] =>
  members.map((memberId) => ({ segmentId: 's1', memberId, memberType: 'PERSON', status: 'realized', occurredAt: AT, cause: { kind: 'batch', runId } }));

describe('membership event positions', () => {
  it('are gap-free and each append stays in one run, with appends from two processes at once', async () => {
    const name = databaseName();
    const [a, b] = clients.map((client) => new MembershipEventsRepository(client.db(name)));
    await a!.ensureIndexes();
    const batches = Array.from({ length: 24 }, (_, i) => events(`run${i}`, [`m${i}a`, `m${i}b`, `m${i}c`]));
    await Promise.all(batches.map((batch, i) => (i % 2 === 0 ? a! : b!).append(batch)));

    const log = await a!.after(0, { limit: 1_000 });
    expect(log.map((event) => event.position)).toEqual(Array.from({ length: 72 }, (_, i) => i + 1));
    expect(await b!.lastPosition()).toBe(72);
    // Each append's events sit next to each other, in the order given.
    for (let i = 0; i < log.length; i += 3) {
      const runs = new Set(log.slice(i, i + 3).map((event) => (event.cause.kind === 'batch' ? event.cause.runId : '')));
      expect(runs.size).toBe(1);
      expect(log.slice(i, i + 3).map((event) => event.memberId.slice(-1))).toEqual(['a', 'b', 'c']);
    }
  });

  it('spend no position on an event already in the log', async () => {
    const repository = new MembershipEventsRepository(clients[0]!.db(databaseName()));
    await repository.ensureIndexes();
    expect(await repository.append(events('r1', ['x', 'y']))).toBe(2);
    expect(await repository.append(events('r1', ['y', 'z', 'z']))).toBe(1);
    const log = await repository.after(0, { limit: 10 });
    expect(log.map((event) => [event.position, event.memberId])).toEqual([
      [1, 'x'],
      [2, 'y'],
      [3, 'z'],
    ]);
  });

  it('continue after what an append that died halfway inserted, once its lock runs out', async () => {
    const db = clients[0]!.db(databaseName());
    const clock = refusalWatchingClock(AT);
    const repository = new MembershipEventsRepository(db, clock.now);
    await repository.ensureIndexes();
    await repository.append(events('r1', ['x']));
    // This process lets the log go once it has nothing more to write.
    const counters = db.collection<{ lockedBy?: string | null }>(MEMBERSHIP_EVENT_POSITIONS_COLLECTION);
    await expect.poll(async () => (await counters.findOne({}))?.lockedBy).toBeNull();
    // Then another process took the lock, inserted position 2, and died before moving the counter.
    await counters.updateOne({}, { $set: { lockedBy: 'dead', lockedUntil: new Date(AT.getTime() + 30_000) } });
    await db.collection(MEMBERSHIP_EVENTS_COLLECTION).insertOne({ ...events('r2', ['y'])[0], _id: 'batch:r2:s1:y:realized', position: 2 } as never);

    const refused = clock.refusal();
    const waiting = repository.append(events('r3', ['z']));
    // The lock still holds: the append is refused and tries again rather than appending.
    expect(await Promise.race([refused, waiting.then(() => 'appended')])).toBe('refused');
    // What the dead process stored is in the log, in order, and counts as appended at once.
    expect(await repository.lastPosition()).toBe(2);
    clock.set(new Date(AT.getTime() + 31_000));
    expect(await waiting).toBe(1);
    const log = await repository.after(0, { limit: 10 });
    expect(log.map((event) => [event.position, event.memberId])).toEqual([
      [1, 'x'],
      [2, 'y'],
      [3, 'z'],
    ]);
    expect(await repository.lastPosition()).toBe(3);
  });
});
