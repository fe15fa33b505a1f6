/**
 * Document rules and 7.0 boundaries from the CRUD specification tests (source/crud/tests/unified/):
 * create-null-ids, insertOne-dots_and_dollars, updateOne-sort / replaceOne-sort (8.0 only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError, ObjectId } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
let serverMajor = 0;
beforeAll(async () => {
  ctx = await openConformance('documents');
  serverMajor = Number(((await ctx.db.command({ buildInfo: 1 })).versionArray as number[])[0]);
});
afterAll(async () => { await ctx.close(); });

const nullIds = { _id: { $type: 'null' } } as never;

describe('_id', () => {
  it('stores an _id of null as null, from insert and from upserts', async () => {
    // The driver replaces a null _id on insertOne, so the insert command is sent as written.
    await ctx.db.command({ insert: 'nullInsert', documents: [{ _id: null, a: 1 }] });
    expect(await ctx.db.collection('nullInsert').find(nullIds).toArray()).toEqual([{ _id: null, a: 1 }]);
    await ctx.db.collection('nullUpdate').updateOne({ _id: null } as never, { $unset: { a: '' } }, { upsert: true });
    expect(await ctx.db.collection('nullUpdate').countDocuments(nullIds)).toBe(1);
    await ctx.db.collection('nullReplace').replaceOne({}, { _id: null } as never, { upsert: true });
    expect(await ctx.db.collection('nullReplace').countDocuments(nullIds)).toBe(1);
  });

  it('refuses a $-prefixed field inside _id and stores nothing', async () => {
    const c = ctx.db.collection('dollarId');
    const err = await c.insertOne({ _id: { $a: 1 } as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 52 });
    expect((err as Error).message).toContain('$a');
    await expect(c.insertOne({ _id: { x: { $b: 1 } } as never })).rejects.toMatchObject({ code: 52 });
    expect(await c.countDocuments()).toBe(0);
    // A dotted key inside _id and a top-level $-prefixed field are allowed (5.0+).
    await c.insertOne({ _id: { 'a.b': 1 } as never });
    await ctx.db.command({ insert: 'dollarId', documents: [{ _id: 2, $x: 1 }] });
    expect(await c.countDocuments()).toBe(2);
  });

  it('keeps _ids of different types apart, whatever characters a string _id holds', async () => {
    const c = ctx.db.collection('idTypes');
    const oid = new ObjectId('6751a2b3c4d5e6f708192a3b');
    // Strings that spell another type's value, or begin with an unusual character, are still strings.
    const ids: unknown[] = [null, 1, '1', oid, `o${oid.toHexString()}`, '\uFFFF', '\uFFFFN', 'N', { a: 1 }, '{"a":1}'];
    await ctx.db.command({ insert: 'idTypes', documents: ids.map((_id, n) => ({ _id, n })) });
    for (const [n, _id] of ids.entries()) expect(await c.findOne({ _id } as never)).toEqual({ _id, n });
    await expect(c.insertOne({ _id: '\uFFFFN' } as never)).rejects.toMatchObject({ code: 11000 });
    await c.deleteOne({ _id: '\uFFFFN' } as never);
    expect(await c.countDocuments({ _id: null } as never)).toBe(1);
    expect(await c.countDocuments()).toBe(ids.length - 1);
  });
});

describe('stored values', () => {
  it('keeps each document its own value when many documents stored the same date and one of them changes', async () => {
    const c = ctx.db.collection('sharedDates');
    const at = new Date('2026-12-01T02:00:00Z');
    await c.insertMany([{ _id: 1, at, tag: 'same' }, { _id: 2, at, tag: 'same' }] as never);
    await c.updateOne({ _id: 1 } as never, [{ $set: { at: { $dateAdd: { startDate: '$at', unit: 'day', amount: 1 } }, tag: { $concat: ['$tag', '!'] } } }]);
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, at: new Date('2026-12-02T02:00:00Z'), tag: 'same!' },
      { _id: 2, at, tag: 'same' },
    ]);
  });
});

describe('MongoDB 7.0 boundaries', () => {
  it('refuses sort on updateOne and replaceOne (a MongoDB 8.0 option) and changes nothing', async (t) => {
    if (serverMajor >= 8) t.skip();
    const c = ctx.db.collection('sortedUpdate');
    await c.insertMany([{ _id: 1, x: 11 }, { _id: 2, x: 22 }, { _id: 3, x: 33 }] as never[]);
    await expect(c.updateOne({ _id: { $gt: 1 } } as never, { $inc: { x: 1 } }, { sort: { _id: -1 } })).rejects.toMatchObject({ code: 40415 });
    await expect(c.replaceOne({ _id: { $gt: 1 } } as never, { x: 0 }, { sort: { _id: -1 } })).rejects.toMatchObject({ code: 40415 });
    expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual([{ _id: 1, x: 11 }, { _id: 2, x: 22 }, { _id: 3, x: 33 }]);
    // findOneAndUpdate has always taken a sort.
    expect(await c.findOneAndUpdate({ _id: { $gt: 1 } } as never, { $inc: { x: 1 } }, { sort: { _id: -1 }, returnDocument: 'after' })).toEqual({ _id: 3, x: 34 });
  });
});
