/**
 * Aggregations that write ($out, $merge) and collection-less stages, as the CRUD specification tests
 * exercise them (source/crud/tests/unified/aggregate-merge*.yml, aggregate-out-readConcern.yml,
 * db-aggregate / $listLocalSessions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError, type Document } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('aggwrites'); });
afterAll(async () => { await ctx.close(); });

describe('$merge', () => {
  it('answers a whenMatched fail with DuplicateKey, keyPattern and keyValue', async () => {
    await ctx.db.collection('mergeFail').insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 1 }] as Document[]);
    const err = await ctx.db.aggregate([{ $documents: [{ _id: 2, x: 1 }] }, { $merge: { into: 'mergeFail', whenMatched: 'fail' } }]).toArray().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000, errorResponse: { keyPattern: { _id: 1 }, keyValue: { _id: 2 } } });
  });

  it('answers whenNotMatched fail with MergeStageNoMatchingDocument', async () => {
    await ctx.db.collection('mergeNoMatch').insertOne({ _id: 1 } as Document);
    await expect(ctx.db.aggregate([{ $documents: [{ _id: 9 }] }, { $merge: { into: 'mergeNoMatch', whenNotMatched: 'fail' } }]).toArray())
      .rejects.toMatchObject({ code: 13113 });
  });

  it('updates matched documents with a whenMatched pipeline reading $$new', async () => {
    const target = ctx.db.collection('mergePipeline');
    await target.insertOne({ _id: 1, total: 5 } as Document);
    await ctx.db.aggregate([
      { $documents: [{ _id: 1, add: 2 }, { _id: 2, add: 7 }] },
      { $merge: { into: 'mergePipeline', whenMatched: [{ $set: { total: { $add: ['$total', '$$new.add'] } } }], whenNotMatched: 'insert' } },
    ]).toArray();
    expect(await target.find({}, { sort: { _id: 1 } }).toArray()).toEqual([{ _id: 1, total: 7 }, { _id: 2, add: 7 }]);
  });

  it('requires a unique index on the on fields', async () => {
    const target = ctx.db.collection('mergeOn');
    await target.insertOne({ k: 'a', n: 1 });
    await expect(ctx.db.aggregate([{ $documents: [{ k: 'a', n: 2 }] }, { $merge: { into: 'mergeOn', on: 'k' } }]).toArray()).rejects.toMatchObject({ code: 51183 });
    await target.createIndex({ k: 1 }, { unique: true });
    await ctx.db.aggregate([{ $documents: [{ k: 'a', n: 2 }] }, { $merge: { into: 'mergeOn', on: 'k', whenMatched: 'merge' } }]).toArray();
    expect(await target.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ k: 'a', n: 2 }]);
    await expect(ctx.db.aggregate([{ $documents: [{ n: 3 }] }, { $merge: { into: 'mergeOn', on: 'k' } }]).toArray()).rejects.toMatchObject({ code: 51132 });
  });
});

describe('read concern', () => {
  it('refuses $out and $merge under a linearizable read concern and writes nothing', async () => {
    const source = ctx.db.collection('linearSource', { readConcern: { level: 'linearizable' } });
    await ctx.db.collection('linearSource').insertMany([{ _id: 1, x: 11 }, { _id: 2, x: 22 }] as Document[]);
    await expect(source.aggregate([{ $match: { _id: { $gt: 1 } } }, { $out: 'linearOut' }]).toArray()).rejects.toMatchObject({ code: 72 });
    await expect(source.aggregate([{ $merge: { into: 'linearMerge' } }]).toArray()).rejects.toMatchObject({ code: 72 });
    const names = (await ctx.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).not.toContain('linearOut');
    expect(names).not.toContain('linearMerge');
    // The same aggregation under majority read concern writes its result.
    await ctx.db.collection('linearSource', { readConcern: { level: 'majority' } }).aggregate([{ $match: { _id: { $gt: 1 } } }, { $out: 'linearOut' }]).toArray();
    expect(await ctx.db.collection('linearOut').find({}).toArray()).toEqual([{ _id: 2, x: 22 }]);
  });
});

describe('$listLocalSessions', () => {
  it('lists the session this client uses', async () => {
    const session = ctx.client.startSession();
    try {
      await ctx.db.collection('sessions').insertOne({ x: 1 }, { session });
      const id = session.id!.id;
      const listed = await ctx.client.db('admin').aggregate([{ $listLocalSessions: { allUsers: true } }, { $match: { '_id.id': id } }]).toArray();
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ _id: { id }, lastUse: expect.any(Date) });
      const dummy = await ctx.client.db('admin').aggregate([{ $listLocalSessions: {} }, { $limit: 1 }, { $addFields: { dummy: 'dummy field' } }, { $project: { _id: 0, dummy: 1 } }]).toArray();
      expect(dummy).toEqual([{ dummy: 'dummy field' }]);
    } finally {
      await session.endSession();
    }
  });
});
