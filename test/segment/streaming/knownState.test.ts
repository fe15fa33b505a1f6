/**
 * What the streaming evaluator remembers between batches: a person's events, followed on the
 * change stream, the wake-ups it wrote, and membership statuses, which other writers' changes
 * on the stream make it read again. Each answers from memory once it has read a key,
 * reads again what it cannot vouch for, and stays bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { MembershipsRepository } from '../../../subgraphs/segment/memberships/memberships.repository.js';
import { KnownEvents } from '../../../subgraphs/segment/streaming/knownEvents.js';
import { KnownStatuses } from '../../../subgraphs/segment/streaming/knownStatuses.js';
import { KnownWakeUps } from '../../../subgraphs/segment/streaming/knownWakeUps.js';
import { WakeUpsRepository } from '../../../subgraphs/segment/streaming/wakeUps.repository.js';
import { countCommands } from '../memberships/support.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';

const PREFIX = uniqueName('known_');
const T0 = new Date('2099-03-01T12:00:00.000Z');
let client: MongoClient;
let counter = 0;

beforeAll(async () => {
  client = await connectTestClient({ monitorCommands: true });
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

function freshDb(): { db: Db; commands: Map<string, number> } {
  const name = `${PREFIX}${++counter}`;
  return { db: client.db(name), commands: countCommands(client, name) };
}

interface EventDoc {
  _id: string;
  identityKey: string;
  type: string;
  timestamp: Date;
}
const event = (id: string, key: string, type: string): EventDoc => ({ _id: id, identityKey: key, type, timestamp: T0 });
const inserted = (doc: EventDoc) => ({ operationType: 'insert', ns: { coll: 'events' }, documentKey: { _id: doc._id }, fullDocument: doc });
const ids = (events: Array<{ id: string }>) => events.map((e) => e.id).sort();

describe('known events', () => {
  it('reads a key once, then follows its new events on the stream', async () => {
    const { db, commands } = freshDb();
    const events = db.collection<EventDoc>('events');
    await events.insertMany([event('a1', 'k:a', 'email.open'), event('b1', 'k:b', 'email.open')]);
    const known = new KnownEvents(db);
    expect(ids(await known.find(['k:a'], null))).toEqual(['a1']);

    const later = event('a2', 'k:a', 'web.pageView');
    await events.insertOne(later);
    known.observe([inserted(later), inserted(event('b2', 'k:b', 'web.pageView'))]);
    commands.clear();
    expect(ids(await known.find(['k:a'], null))).toEqual(['a1', 'a2']);
    expect(commands.get('find events')).toBeUndefined();
    // A key never read is read whole, with no trace of the change seen before it was known.
    expect(ids(await known.find(['k:b'], null))).toEqual(['b1']);
    expect(commands.get('find events')).toBe(1);
  });

  it('reads again when asked for older events than it holds, or after an event was sent again', async () => {
    const { db, commands } = freshDb();
    const events = db.collection<EventDoc>('events');
    await events.insertMany([event('a1', 'k:a', 'email.open'), { ...event('a0', 'k:a', 'email.open'), timestamp: new Date(T0.getTime() - 86_400_000) }]);
    const known = new KnownEvents(db);
    expect(ids(await known.find(['k:a'], T0))).toEqual(['a1']);
    expect(ids(await known.find(['k:a'], null))).toEqual(['a0', 'a1']);
    expect(commands.get('find events')).toBe(2);

    // Sent again under another key: which key lost it is unknown, so nothing is vouched for.
    await events.replaceOne({ _id: 'a1' }, event('a1', 'k:c', 'email.open'));
    known.observe([{ operationType: 'replace', ns: { coll: 'events' }, documentKey: { _id: 'a1' }, fullDocument: event('a1', 'k:c', 'email.open') }]);
    expect(ids(await known.find(['k:a'], null))).toEqual(['a0']);
    expect(commands.get('find events')).toBe(3);
  });

  it('keeps at most its limit of events, dropping the least recently used keys', async () => {
    const { db } = freshDb();
    await db.collection<EventDoc>('events').insertMany(['k:a', 'k:b', 'k:c'].flatMap((key) => [1, 2, 3].map((n) => event(`${key}${n}`, key, 'email.open'))));
    const known = new KnownEvents(db, 8);
    await known.find(['k:a'], null);
    await known.find(['k:b'], null);
    expect(known.size).toBe(8);
    await known.find(['k:c'], null);
    expect(known.size).toBe(8);
    // k:a went first: asking for it reads it again.
    const commands = countCommands(client, db.databaseName);
    await known.find(['k:b'], null);
    expect(commands.get('find events')).toBeUndefined();
    await known.find(['k:a'], null);
    expect(commands.get('find events')).toBe(1);
  });
});

describe('known wake-ups', () => {
  it('reads a member once, writes only what changed, and answers from what it wrote', async () => {
    const { db, commands } = freshDb();
    const repository = new WakeUpsRepository(db);
    const known = new KnownWakeUps(repository);
    const at = (days: number) => new Date(T0.getTime() + days * 86_400_000);

    let stored = await known.ofMembers(['p1', 'p2']);
    await known.apply([{ segmentId: 's1', memberId: 'p1', target: 'PERSON', at: at(1) }, { segmentId: 's2', memberId: 'p1', target: 'PERSON', at: at(2) }], stored);
    stored = await known.ofMembers(['p1', 'p2']);
    expect(commands.get('find streamingWakeUps')).toBe(1);
    expect(stored.get('p1')).toEqual(new Map([['s1', at(1).getTime()], ['s2', at(2).getTime()]]));

    await known.apply([{ segmentId: 's1', memberId: 'p1', target: 'PERSON', at: null }, { segmentId: 's2', memberId: 'p1', target: 'PERSON', at: at(2) }], stored);
    await known.remove([{ segmentId: 's2', memberId: 'p1' }]);
    expect((await known.ofMembers(['p1'])).get('p1')).toEqual(new Map());
    // The pair written once; then s1 removed (the unchanged s2 not written again), then s2 removed; nothing read again.
    expect(commands.get('update streamingWakeUps')).toBe(1);
    expect(commands.get('delete streamingWakeUps')).toBe(2);
    expect(commands.get('find streamingWakeUps')).toBe(1);
    expect(await repository.ofMembers(['p1'])).toEqual(new Map([['p1', new Map()]]));
  });

  it('forgets what it knew when a write fails', async () => {
    const { db, commands } = freshDb();
    const repository = new WakeUpsRepository(db);
    const failing = Object.assign(Object.create(repository) as WakeUpsRepository, { apply: () => Promise.reject(new Error('network')) });
    const known = new KnownWakeUps(failing);
    const stored = await known.ofMembers(['p1']);
    await known.ofMembers(['p1']);
    expect(commands.get('find streamingWakeUps')).toBe(1);
    await expect(known.apply([{ segmentId: 's1', memberId: 'p1', target: 'PERSON', at: T0 }], stored)).rejects.toThrow('network');
    await known.ofMembers(['p1']);
    expect(commands.get('find streamingWakeUps')).toBe(2);
  });
});

describe('known statuses', () => {
  const enter = (segmentId: string, memberId: string) =>
    ({ kind: 'enter', from: null, segmentId, memberId, memberType: 'PERSON', runId: 'stream:b1', at: T0 }) as const;

  it('reads a member once, remembers what a batch wrote, and reads afresh a member another writer changed', async () => {
    const { db, commands } = freshDb();
    const memberships = new MembershipsRepository(db);
    const known = new KnownStatuses(memberships);
    const statuses = await known.ofMembers(['p1', 'p2']);
    expect(statuses).toEqual(new Map([['p1', new Map()], ['p2', new Map()]]));
    const transitions = [enter('s1', 'p1'), enter('s2', 'p1')];
    expect(await memberships.applyTransitions(transitions)).toBe(2);
    known.applied(transitions, statuses);
    expect((await known.ofMembers(['p1'])).get('p1')).toEqual(new Map([['s1', 'realized'], ['s2', 'realized']]));
    expect(commands.get('find segmentMemberships')).toBe(1);

    // Its own writes come back on the stream and change nothing; a batch run's exit, or an expiry (no post-image), is read afresh.
    known.observe([{ operationType: 'update', ns: { coll: 'segmentMemberships' }, documentKey: { _id: 's1:p1' }, fullDocument: { memberId: 'p1', runId: 'stream:b1' } }]);
    await known.ofMembers(['p1']);
    expect(commands.get('find segmentMemberships')).toBe(1);
    await db.collection('segmentMemberships').updateOne({ _id: 's1:p1' as never }, { $set: { status: 'exited', runId: 'nightly' } });
    known.observe([{ operationType: 'update', ns: { coll: 'segmentMemberships' }, documentKey: { _id: 's1:p1' }, fullDocument: { memberId: 'p1', runId: 'nightly' } }]);
    expect((await known.ofMembers(['p1'])).get('p1')?.get('s1')).toBe('exited');
    expect(commands.get('find segmentMemberships')).toBe(2);
    await db.collection('segmentMemberships').deleteOne({ _id: 's1:p1' as never });
    known.observe([{ operationType: 'delete', ns: { coll: 'segmentMemberships' }, documentKey: { _id: 's1:p1' } }]);
    expect((await known.ofMembers(['p1'])).get('p1')?.has('s1')).toBe(false);
    expect(commands.get('find segmentMemberships')).toBe(3);

    // A batch whose writes missed leaves its members unknown.
    known.forgetMembers(['p2']);
    await known.ofMembers(['p1', 'p2']);
    expect(commands.get('find segmentMemberships')).toBe(4);
  });
});
