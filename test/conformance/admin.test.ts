import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConformance, onDevDb, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('admin'); });
afterAll(async () => { await ctx.close(); });

describe('handshake and admin commands', () => {
  it('says it is a writable replica-set primary', async () => {
    const hello = await ctx.client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({ isWritablePrimary: true, ok: 1, maxBsonObjectSize: 16777216, maxMessageSizeBytes: 48000000, maxWriteBatchSize: 100000 });
    expect(typeof hello.setName).toBe('string');
    expect(hello.hosts).toContain(hello.me);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(17);
    expect(hello.logicalSessionTimeoutMinutes).toBeGreaterThan(0);
    expect(hello.localTime).toBeInstanceOf(Date);
  });

  it('answers ping and buildInfo', async () => {
    expect(await ctx.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
    const info = await ctx.db.command({ buildInfo: 1 });
    expect(typeof info.version).toBe('string');
  });

  it('answers unknown commands with CommandNotFound', async () => {
    await expect(ctx.db.command({ frobnicate: 1 })).rejects.toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });

  it('creates, lists, renames and drops collections and databases', async () => {
    const db = ctx.otherDb();
    await db.createCollection('a');
    await expect(db.createCollection('a')).rejects.toMatchObject({ code: 48 });
    await db.collection('b').insertOne({ x: 1 });
    expect((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(['a', 'b']);
    const full = await db.listCollections({ name: 'b' }).toArray();
    expect(full[0]).toMatchObject({ name: 'b', type: 'collection' });
    const { databases } = await ctx.client.db('admin').admin().listDatabases();
    expect(databases.map((d) => d.name)).toContain(db.databaseName);
    await db.renameCollection('b', 'c');
    expect(await db.collection('c').countDocuments()).toBe(1);
    expect(await db.collection('b').countDocuments()).toBe(0);
    expect(await db.collection('c').drop()).toBe(true);
    await db.dropDatabase();
    const after = await ctx.client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(after.databases.map((d) => d.name)).not.toContain(db.databaseName);
  });

  it('finds nothing in missing collections without creating them', async () => {
    expect(await ctx.db.collection('missing').find({}).toArray()).toEqual([]);
    expect(await ctx.db.collection('missing').countDocuments()).toBe(0);
    expect(await ctx.db.listCollections({ name: 'missing' }).toArray()).toEqual([]);
  });

  // mongod supports transactions; devdb refuses them clearly (the platform never uses them).
  it.skipIf(!onDevDb())('refuses multi-document transactions with a clear error', async () => {
    const session = ctx.client.startSession();
    try {
      session.startTransaction();
      const err = await ctx.db.collection('tx').insertOne({ a: 1 }, { session }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 263 });
      expect(String((err as Error).message)).toMatch(/transactions/);
    } finally {
      await session.abortTransaction().catch(() => undefined);
      await session.endSession();
    }
  });
});
