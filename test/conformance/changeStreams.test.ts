import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type ChangeStream, type ChangeStreamDocument, type ChangeStreamUpdateDocument, type Document, type ResumeToken, type Timestamp } from 'mongodb';
import { mongoUri, openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('changes'); });
afterAll(async () => { await ctx.close(); });

/** Opens the stream on the server (the driver is lazy) so later writes are seen. */
async function started<T extends Document>(stream: ChangeStream<T>): Promise<ChangeStream<T>> {
  await stream.tryNext();
  return stream;
}

/** The `i` field of an insert event's full document. */
function insertedI(e: ChangeStreamDocument<Document>): number {
  return e.operationType === 'insert' ? (e.fullDocument.i as number) : Number.NaN;
}

/**
 * A client of its own, to see when a stream's getMore is on the server (`onServer`, at the first) and
 * how each was answered: `started`, then `answered <events>`.
 */
function watchingGetMores(): { watcher: MongoClient; getMores: string[]; onServer: Promise<void> } {
  const watcher = new MongoClient(mongoUri(), { monitorCommands: true });
  const getMores: string[] = [];
  let waiting: () => void = () => undefined;
  const onServer = new Promise<void>((resolve) => { waiting = resolve; });
  watcher.on('commandStarted', (e) => { if (e.commandName === 'getMore') { getMores.push('started'); waiting(); } });
  watcher.on('commandSucceeded', (e) => { if (e.commandName === 'getMore') getMores.push(`answered ${(e.reply as { cursor: { nextBatch: unknown[] } }).cursor.nextBatch.length}`); });
  return { watcher, getMores, onServer };
}

async function take<T extends Document>(stream: ChangeStream<T>, n: number): Promise<ChangeStreamDocument<T>[]> {
  const out: ChangeStreamDocument<T>[] = [];
  while (out.length < n) out.push(await stream.next());
  return out;
}

describe('change streams', () => {
  it('delivers insert, update, replace and delete events on a collection', async () => {
    const c = ctx.db.collection('events');
    const stream = await started(c.watch());
    const { insertedId } = await c.insertOne({ a: 1, b: { c: 1 }, gone: true });
    await c.updateOne({ _id: insertedId }, { $set: { 'b.c': 2, n: 1 }, $unset: { gone: '' } });
    await c.replaceOne({ _id: insertedId }, { z: 1 });
    await c.deleteOne({ _id: insertedId });
    const [ins, upd, rep, del] = await take(stream, 4);
    expect(ins).toMatchObject({ operationType: 'insert', ns: { db: ctx.db.databaseName, coll: 'events' }, documentKey: { _id: insertedId }, fullDocument: { a: 1 } });
    expect(ins._id).toHaveProperty('_data');
    expect((ins as { clusterTime: Timestamp }).clusterTime._bsontype).toBe('Timestamp');
    expect(upd.operationType).toBe('update');
    const update = upd as ChangeStreamUpdateDocument;
    expect(update.updateDescription.updatedFields).toEqual({ 'b.c': 2, n: 1 });
    expect(update.updateDescription.removedFields).toEqual(['gone']);
    expect(update.fullDocument).toBeUndefined();
    expect(rep).toMatchObject({ operationType: 'replace', fullDocument: { _id: insertedId, z: 1 } });
    expect(del).toMatchObject({ operationType: 'delete', documentKey: { _id: insertedId } });
    await stream.close();
  });

  it('reports one event per document of a multi-document write, in order', async () => {
    const c = ctx.db.collection('multi');
    const stream = await started(c.watch([], { maxAwaitTimeMS: 300 }));
    await c.insertMany([{ i: 1 }, { i: 2 }, { i: 3 }]);
    await c.updateMany({}, { $inc: { i: 10 } });
    await c.deleteMany({ i: { $gt: 11 } });
    const events = await take(stream, 8);
    expect(events.map((e) => e.operationType)).toEqual(['insert', 'insert', 'insert', 'update', 'update', 'update', 'delete', 'delete']);
    expect(events.slice(0, 3).map(insertedI)).toEqual([1, 2, 3]);
    const tokens = events.map((e) => (e._id as { _data: string })._data);
    expect(new Set(tokens).size).toBe(8);
    await stream.close();
  });

  it('filters with $match and looks up full documents on update', async () => {
    const c = ctx.db.collection('filtered');
    const stream = await started(c.watch([{ $match: { operationType: 'update' } }], { fullDocument: 'updateLookup' }));
    await c.insertOne({ k: 1, v: 0 });
    await c.updateOne({ k: 1 }, { $inc: { v: 1 } });
    const [ev] = await take(stream, 1);
    expect(ev).toMatchObject({ operationType: 'update', fullDocument: { k: 1, v: 1 } });
    await stream.close();
  });

  it('watches a database and the whole deployment', async () => {
    const other = ctx.otherDb();
    const dbStream = await started(ctx.db.watch([{ $match: { 'ns.coll': { $in: ['dbw1', 'dbw2'] } } }]));
    const all = await started(ctx.client.watch([{ $match: { 'ns.db': other.databaseName } }]));
    await ctx.db.collection('dbw1').insertOne({ x: 1 });
    await ctx.db.collection('dbw2').insertOne({ x: 2 });
    await other.collection('elsewhere').insertOne({ x: 3 });
    const dbEvents = await take(dbStream, 2);
    expect(dbEvents.map((e) => (e as { ns: { coll: string } }).ns.coll)).toEqual(['dbw1', 'dbw2']);
    const [remote] = await take(all, 1);
    expect(remote).toMatchObject({ operationType: 'insert', ns: { db: other.databaseName, coll: 'elsewhere' }, fullDocument: { x: 3 } });
    await dbStream.close();
    await all.close();
  });

  it('keeps exactly what a $match on namespace, operation and document fields lets through, under $or, $and, $eq and $in', async () => {
    const stream = await started(
      ctx.db.watch([
        {
          $match: {
            $or: [
              { 'ns.coll': { $in: ['nsf1'] }, operationType: 'insert' },
              { 'ns.coll': 'nsf2', 'fullDocument.keep': true },
              { $and: [{ operationType: { $eq: 'delete' } }, { 'ns.coll': 'nsf3' }] },
            ],
          },
        },
        { $project: { operationType: 1, ns: 1, 'fullDocument.x': 1 } },
      ]),
    );
    const [one, two, three, other] = ['nsf1', 'nsf2', 'nsf3', 'nsf4'].map((name) => ctx.db.collection(name));
    await one!.insertOne({ x: 1 });
    await one!.updateOne({ x: 1 }, { $set: { y: 1 } });
    await two!.insertOne({ x: 2, keep: false });
    await two!.insertOne({ x: 3, keep: true });
    await three!.insertOne({ x: 4 });
    await other!.insertOne({ x: 5 });
    await three!.deleteOne({ x: 4 });
    await one!.insertOne({ x: 6 });
    const events = (await take(stream, 4)) as Array<{ operationType: string; ns: { coll: string }; fullDocument?: { x: number; keep?: boolean } }>;
    expect(events.map((e) => [e.operationType, e.ns.coll, e.fullDocument?.x ?? null])).toEqual([
      ['insert', 'nsf1', 1],
      ['insert', 'nsf2', 3],
      ['delete', 'nsf3', null],
      ['insert', 'nsf1', 6],
    ]);
    expect(events[1]!.fullDocument).toEqual({ x: 3 });
    await stream.close();
  });

  it('resumes after a token and from an operation time', async () => {
    const c = ctx.db.collection('resume');
    const stream = await started(c.watch());
    await c.insertOne({ i: 1 });
    const [first] = await take(stream, 1);
    const token = first._id as ResumeToken;
    const time = (first as { clusterTime: Timestamp }).clusterTime;
    await stream.close();
    await c.insertMany([{ i: 2 }, { i: 3 }]);
    const resumed = c.watch([], { resumeAfter: token });
    const again = await take(resumed, 2);
    expect(again.map(insertedI)).toEqual([2, 3]);
    await resumed.close();
    const fromTime = c.watch([], { startAtOperationTime: time });
    const replay = await take(fromTime, 3);
    expect(replay.map(insertedI)).toEqual([1, 2, 3]);
    await fromTime.close();
    const startAfter = c.watch([], { startAfter: token });
    expect(insertedI(await startAfter.next())).toBe(2);
    await startAfter.close();
  });

  it('answers a waiting getMore with an event that happens while it waits', async () => {
    const { watcher, getMores, onServer } = watchingGetMores();
    try {
      const c = watcher.db(ctx.db.databaseName).collection('latency');
      // A wait far longer than the test: had the server not answered on the insert, another getMore would follow.
      const stream = c.watch([], { maxAwaitTimeMS: 60_000 });
      // The stream opens (aggregate) on the first next(); its first getMore starts once it is open.
      const next = stream.next();
      await onServer;
      await ctx.db.collection('latency').insertOne({ late: true });
      const ev = await next;
      expect(ev.operationType).toBe('insert');
      expect(getMores).toEqual(['started', 'answered 1']);
      expect(stream.resumeToken).toEqual(ev._id);
      await stream.close();
    } finally {
      await watcher.close();
    }
  });

  it('keeps a getMore waiting through writes its stream does not show', async () => {
    const { watcher, getMores, onServer } = watchingGetMores();
    try {
      const stream = watcher.db(ctx.db.databaseName).watch([{ $match: { 'ns.coll': 'quiet' } }], { maxAwaitTimeMS: 60_000 });
      const next = stream.next();
      await onServer;
      // Writes the stream's filter drops: answering an idle stream on each would cost its client a getMore per write.
      for (let i = 0; i < 20; i++) await ctx.db.collection('busy').insertOne({ i });
      await ctx.db.collection('quiet').insertOne({ wanted: true });
      const ev = await next;
      expect(ev).toMatchObject({ operationType: 'insert', fullDocument: { wanted: true } });
      expect(getMores).toEqual(['started', 'answered 1']);
      await stream.close();
    } finally {
      await watcher.close();
    }
  });

  it('fails the stream when its pipeline removes the resume token', async () => {
    const c = ctx.db.collection('notoken');
    const stream = await started(c.watch([{ $project: { _id: 0 } }], { maxAwaitTimeMS: 300 }));
    await c.insertOne({ x: 1 });
    await expect(stream.next()).rejects.toMatchObject({ code: 280 });
    await stream.close();
  });

  it('reports drop and invalidate when a watched collection is dropped', async () => {
    const c = ctx.db.collection('dropped');
    await c.insertOne({ x: 1 });
    const stream = await started(c.watch());
    await c.drop();
    const [drop, invalidate] = await take(stream, 2);
    expect(drop.operationType).toBe('drop');
    expect(invalidate.operationType).toBe('invalidate');
    await stream.close();
  });

  it('starts a new stream after an invalidate with startAfter, refuses resumeAfter there, and resumes after a drop into the invalidate', async () => {
    const c = ctx.db.collection('restarted');
    await c.insertOne({ i: 0 });
    const stream = await started(c.watch());
    await c.drop();
    const [drop, invalidate] = await take(stream, 2);
    await stream.close();
    const refused = c.watch([], { resumeAfter: invalidate._id });
    await expect(refused.next()).rejects.toMatchObject({ code: 260 });
    await refused.close();
    const again = c.watch([], { resumeAfter: drop._id });
    expect((await again.next()).operationType).toBe('invalidate');
    await again.close();
    const after = c.watch([], { startAfter: invalidate._id });
    await c.insertOne({ i: 1 });
    expect(insertedI(await after.next())).toBe(1);
    await after.close();
  });
});
