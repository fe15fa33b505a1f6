import { MongoClient, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoUri, openConformance, onDevDb, eventually, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('ttlcap'); });
afterAll(async () => { await ctx.close(); });

describe('capped collections', () => {
  it('keep at most `max` documents in insertion order', async () => {
    await ctx.db.createCollection('log', { capped: true, size: 100_000, max: 3 });
    const c = ctx.db.collection('log');
    for (let i = 0; i < 5; i++) await c.insertOne({ i });
    expect((await c.find().toArray()).map((d) => d.i)).toEqual([2, 3, 4]);
    expect((await c.find().sort({ $natural: -1 }).toArray()).map((d) => d.i)).toEqual([4, 3, 2]);
    const [info] = await ctx.db.listCollections({ name: 'log' }, { nameOnly: false }).toArray();
    expect((info as { options?: Document }).options).toMatchObject({ capped: true, max: 3 });
  });

  it('honour the size limit', async () => {
    await ctx.db.createCollection('small', { capped: true, size: 4096 });
    const c = ctx.db.collection('small');
    for (let i = 0; i < 50; i++) await c.insertOne({ i, pad: 'x'.repeat(500) });
    const n = await c.countDocuments();
    expect(n).toBeLessThan(50);
    expect(n).toBeGreaterThan(0);
    expect((await c.find().toArray()).at(-1)!.i).toBe(49);
  });

  it('serve tailable awaitData cursors: a getMore waits for the next insert', async () => {
    await ctx.db.createCollection('tail', { capped: true, size: 100_000 });
    const c = ctx.db.collection('tail');
    await c.insertOne({ i: 0 });
    // The tailing client is watched: the insert is made once its first getMore has been sent.
    const tailing = new MongoClient(mongoUri(), { monitorCommands: true });
    try {
      let getMores = 0;
      let inserted: Promise<unknown> | undefined;
      tailing.on('commandStarted', (event) => {
        if (event.commandName === 'getMore' && ++getMores === 1) inserted = c.insertOne({ i: 1 });
      });
      const cursor = tailing.db(ctx.db.databaseName).collection('tail').find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 30_000 });
      expect((await cursor.next())!.i).toBe(0);
      expect((await cursor.next())!.i).toBe(1);
      await inserted;
      // That one getMore answered it: the server held it until the insert rather than answering an empty batch.
      expect(getMores).toBe(1);
      await cursor.close();
    } finally {
      await tailing.close();
    }
  });

  it('reject tailable cursors on regular collections', async () => {
    const c = ctx.db.collection('regular');
    await c.insertOne({ a: 1 });
    await expect(c.find({}, { tailable: true }).toArray()).rejects.toMatchObject({ code: 2 });
  });
});

describe('TTL indexes', () => {
  // mongod's TTL monitor runs every 60 s; devdb's every second, so only devdb can be checked quickly.
  it.skipIf(!onDevDb())('delete expired documents and emit delete events', async () => {
    const c = ctx.db.collection('sessions');
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 1 });
    const stream = c.watch([{ $match: { operationType: 'delete' } }]);
    await stream.tryNext();
    await c.insertMany([{ k: 'old', at: new Date(Date.now() - 60_000) }, { k: 'fresh', at: new Date(Date.now() + 60_000) }, { k: 'no-date', at: 'x' }]);
    await eventually(async () => ((await c.countDocuments({ k: 'old' })) === 0 ? true : undefined), 5_000);
    expect((await c.find({}, { projection: { _id: 0, k: 1 } }).toArray()).map((d) => d.k).sort()).toEqual(['fresh', 'no-date']);
    expect((await stream.next()).operationType).toBe('delete');
    await stream.close();
  });
});
