import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Double, Long, MongoBulkWriteError, ObjectId, type Collection, type Document } from 'mongodb';
import { eventually, openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('crud'); });
afterAll(async () => { await ctx.close(); });

const coll = (name: string): Collection<Document> => ctx.db.collection(name);

describe('insert and find', () => {
  it('assigns an _id, stores _id first and finds by filter', async () => {
    const c = coll('insert');
    const res = await c.insertOne({ name: 'Ada', _id: undefined as unknown as ObjectId });
    expect(res.insertedId).toBeInstanceOf(ObjectId);
    await c.insertOne({ b: 1, _id: 'x' as unknown as ObjectId });
    const doc = await c.findOne({ _id: 'x' as unknown as ObjectId });
    expect(Object.keys(doc!)).toEqual(['_id', 'b']);
  });

  it('filters with comparison, logical, element, array and regex operators', async () => {
    const c = coll('filters');
    await c.insertMany([
      { n: 1, tags: ['a', 'b'], s: 'apple', nested: { x: 1 } },
      { n: 2, tags: ['b'], s: 'banana', nested: { x: 2 } },
      { n: 3, tags: [], s: 'cherry' },
      { n: null, s: 'date' },
      { s: 'elder' },
    ]);
    const names = async (f: Document): Promise<string[]> => (await c.find(f).sort({ s: 1 }).toArray()).map((d) => d.s as string);
    expect(await names({ n: { $gte: 2 } })).toEqual(['banana', 'cherry']);
    expect(await names({ n: null })).toEqual(['date', 'elder']);
    expect(await names({ n: { $exists: false } })).toEqual(['elder']);
    expect(await names({ tags: 'b' })).toEqual(['apple', 'banana']);
    expect(await names({ tags: { $size: 0 } })).toEqual(['cherry']);
    expect(await names({ tags: { $all: ['a', 'b'] } })).toEqual(['apple']);
    expect(await names({ $or: [{ n: 1 }, { s: /^ch/ }] })).toEqual(['apple', 'cherry']);
    expect(await names({ 'nested.x': { $in: [2, 5] } })).toEqual(['banana']);
    expect(await names({ s: { $regex: 'AN', $options: 'i' } })).toEqual(['banana']);
    expect(await names({ n: { $not: { $gt: 1 } } })).toEqual(['apple', 'date', 'elder']);
    expect(await names({ $expr: { $gt: [{ $strLenCP: '$s' }, 5] } })).toEqual(['banana', 'cherry']);
  });

  it('matches $in lists by value across numeric types, inside arrays, and long lists alike', async () => {
    const c = coll('inlists');
    await c.insertMany([
      { _id: 1 as unknown as ObjectId, a: 1 },
      { _id: 2 as unknown as ObjectId, a: Long.fromNumber(2) },
      { _id: 3 as unknown as ObjectId, a: [3, 4] },
      { _id: 4 as unknown as ObjectId, a: 'x' },
      { _id: 5 as unknown as ObjectId, a: null },
      { _id: 6 as unknown as ObjectId, b: 1 },
    ]);
    const ids = async (filter: Document) => (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ a: { $in: [2, 4, 'x'] } })).toEqual([2, 3, 4]);
    expect(await ids({ a: { $in: [new Double(1)] } })).toEqual([1]);
    expect(await ids({ a: { $in: [] } })).toEqual([]);
    expect(await ids({ a: { $in: [null] } })).toEqual([5, 6]);
    const many = Array.from({ length: 2_000 }, (_, i) => `k${i}`).concat(['x']);
    expect(await ids({ a: { $in: many } })).toEqual([4]);
    expect(await ids({ _id: { $in: [6, 1, 99] } })).toEqual([1, 6]);
  });

  it('sorts, skips, limits and projects', async () => {
    const c = coll('paging');
    await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ i, even: i % 2 === 0, extra: 'x' })));
    const page = await c.find({ even: true }, { projection: { _id: 0, i: 1 } }).sort({ i: -1 }).skip(2).limit(3).toArray();
    expect(page).toEqual([{ i: 14 }, { i: 12 }, { i: 10 }]);
    const excluded = await c.findOne({ i: 3 }, { projection: { extra: 0, _id: 0 } });
    expect(excluded).toEqual({ i: 3, even: false });
  });

  it('projects top-level fields in the document order, the id kept unless excluded', async () => {
    const c = coll('topLevelProjection');
    await c.insertOne({ _id: 'p1', b: 2, a: 1, c: { d: 3 } } as never);
    const keysOf = async (projection: Record<string, number | boolean>) => {
      const doc = await c.findOne({}, { projection });
      return doc ? Object.entries(doc) : null;
    };
    expect(await keysOf({ a: 1, b: 1 })).toEqual([['_id', 'p1'], ['b', 2], ['a', 1]]);
    expect(await keysOf({ _id: 0, c: true })).toEqual([['c', { d: 3 }]]);
    expect(await keysOf({ b: 0 })).toEqual([['_id', 'p1'], ['a', 1], ['c', { d: 3 }]]);
    expect(await keysOf({ _id: 1 })).toEqual([['_id', 'p1']]);
    expect(await keysOf({ _id: 0 })).toEqual([['b', 2], ['a', 1], ['c', { d: 3 }]]);
    expect(await keysOf({ missing: 1 })).toEqual([['_id', 'p1']]);
  });

  it('returns large results across getMore batches', async () => {
    const c = coll('batches');
    await c.insertMany(Array.from({ length: 1050 }, (_, i) => ({ i })));
    const all = await c.find({}, { batchSize: 100 }).sort({ i: 1 }).toArray();
    expect(all).toHaveLength(1050);
    expect(all[1049].i).toBe(1049);
    const cursor = c.find({}, { batchSize: 10 });
    let seen = 0;
    for await (const _ of cursor) seen++;
    expect(seen).toBe(1050);
  });

  it('matches and projects array elements with $elemMatch, sorts on several keys, projects nested fields', async () => {
    const c = coll('elem');
    await c.insertMany([
      { k: 1, g: 'b', items: [{ sku: 'x', qty: 1 }, { sku: 'y', qty: 5 }], a: { b: 1, c: 2 } },
      { k: 2, g: 'a', items: [{ sku: 'x', qty: 9 }], a: { b: 3, c: 4 } },
      { k: 3, g: 'a', items: [{ sku: 'y', qty: 2 }], a: { b: 5, c: 6 } },
    ]);
    const hits = await c.find({ items: { $elemMatch: { sku: 'x', qty: { $gt: 2 } } } }, { projection: { _id: 0, k: 1 } }).toArray();
    expect(hits).toEqual([{ k: 2 }]);
    const first = await c.findOne({ k: 1 }, { projection: { _id: 0, items: { $elemMatch: { qty: { $gt: 2 } } } } });
    expect(first).toEqual({ items: [{ sku: 'y', qty: 5 }] });
    const nested = await c.find({}, { projection: { _id: 0, 'a.c': 1 } }).sort({ g: 1, k: -1 }).toArray();
    expect(nested).toEqual([{ a: { c: 6 } }, { a: { c: 4 } }, { a: { c: 2 } }]);
    expect((await c.distinct('items.sku', { g: 'a' })).sort()).toEqual(['x', 'y']);
  });

  it('answers CursorNotFound for a getMore on a killed cursor', async () => {
    const c = coll('killed');
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    const first = await ctx.db.command({ find: 'killed', batchSize: 2 });
    const id = first.cursor.id;
    expect(first.cursor.firstBatch).toHaveLength(2);
    const killed = await ctx.db.command({ killCursors: 'killed', cursors: [id] });
    expect(killed.cursorsKilled).toHaveLength(1);
    await expect(ctx.db.command({ getMore: id, collection: 'killed' })).rejects.toMatchObject({ code: 43 });
  });

  it('applies unacknowledged (w: 0) writes', async () => {
    const c = coll('w0');
    await c.insertOne({ fireAndForget: true }, { writeConcern: { w: 0 } });
    await eventually(async () => ((await c.countDocuments({ fireAndForget: true })) === 1 ? true : undefined), 5_000);
  });

  it('counts and finds distinct values', async () => {
    const c = coll('count');
    await c.insertMany([{ k: 'a', v: [1, 2] }, { k: 'b', v: [2, 3] }, { k: 'a' }]);
    expect(await c.countDocuments({ k: 'a' })).toBe(2);
    expect(await c.estimatedDocumentCount()).toBe(3);
    expect((await c.distinct('k')).sort()).toEqual(['a', 'b']);
    expect((await c.distinct('v')).sort()).toEqual([1, 2, 3]);
  });
});

describe('updates', () => {
  it('applies field, arithmetic and array operators', async () => {
    const c = ctx.db.collection<{ _id: number } & Document>('ops');
    await c.insertOne({ _id: 1, a: 1, b: 'x', arr: [3, 1, 2], rm: true, m: 4, lo: 5, sub: { k: 1 } });
    const res = await c.updateOne({ _id: 1 }, {
      $set: { 'sub.j': 2, b: 'y' },
      $inc: { a: 2 },
      $unset: { rm: '' },
      $mul: { m: 2.5 },
      $min: { lo: 3 },
      $push: { arr: { $each: [9, 0], $sort: 1, $slice: 4 } },
      $rename: { 'sub.k': 'sub.renamed' },
    } as Document);
    expect(res.matchedCount).toBe(1);
    expect(res.modifiedCount).toBe(1);
    const doc = await c.findOne({ _id: 1 });
    expect(doc).toEqual({ _id: 1, a: 3, b: 'y', arr: [0, 1, 2, 3], m: 10, lo: 3, sub: { j: 2, renamed: 1 } });
    await c.updateOne({ _id: 1 }, { $addToSet: { arr: { $each: [3, 7] } }, $pop: { other: 1 } } as Document);
    await c.updateOne({ _id: 1 }, { $pull: { arr: { $gte: 3 } } } as Document);
    expect((await c.findOne({ _id: 1 }))!.arr).toEqual([0, 1, 2]);
  });

  it('reports no modification when nothing changes', async () => {
    const c = coll('noop');
    await c.insertOne({ k: 1, v: 'same' });
    const res = await c.updateOne({ k: 1 }, { $set: { v: 'same' } });
    expect(res.matchedCount).toBe(1);
    expect(res.modifiedCount).toBe(0);
  });

  it('updates many, positional $, $[] and arrayFilters', async () => {
    const c = coll('positional');
    await c.insertMany([
      { g: 1, grades: [{ s: 80, ok: false }, { s: 95, ok: false }] },
      { g: 1, grades: [{ s: 70, ok: false }] },
    ]);
    const many = await c.updateMany({ g: 1 }, { $set: { 'grades.$[e].ok': true } }, { arrayFilters: [{ 'e.s': { $gte: 75 } }] });
    expect(many.modifiedCount).toBe(1);
    await c.updateOne({ 'grades.s': 70 }, { $set: { 'grades.$.s': 71 } });
    await c.updateMany({}, { $inc: { 'grades.$[].s': 1 } });
    const docs = await c.find({}, { projection: { _id: 0, grades: 1 } }).toArray();
    expect(docs).toEqual([
      { grades: [{ s: 81, ok: true }, { s: 96, ok: true }] },
      { grades: [{ s: 72, ok: false }] },
    ]);
  });

  it('upserts from the query equality fields with $setOnInsert', async () => {
    const c = coll('upsert');
    const first = await c.updateOne({ email: 'a@x.io', tenant: 't1', age: { $gt: 1 } }, { $set: { seen: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(first.upsertedCount).toBe(1);
    const second = await c.updateOne({ email: 'a@x.io', tenant: 't1' }, { $set: { seen: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    expect(second.upsertedCount).toBe(0);
    expect(second.modifiedCount).toBe(1);
    const doc = await c.findOne({ email: 'a@x.io' }, { projection: { _id: 0 } });
    expect(doc).toEqual({ email: 'a@x.io', tenant: 't1', seen: 2, created: true });
    // Query fields first, then new fields in lexicographic order (MongoDB 5+).
    expect(Object.keys(doc!)).toEqual(['email', 'tenant', 'created', 'seen']);
    const withId = await c.updateOne({ _id: 'fixed' as unknown as ObjectId }, { $set: { v: 1 } }, { upsert: true });
    expect(withId.upsertedId).toBe('fixed');
  });

  it('replaces documents and keeps _id immutable', async () => {
    const c = coll('replace');
    const { insertedId } = await c.insertOne({ a: 1, b: 2 });
    await c.replaceOne({ _id: insertedId }, { c: 3 });
    expect(await c.findOne({ _id: insertedId })).toEqual({ _id: insertedId, c: 3 });
    await expect(c.updateOne({ _id: insertedId }, { $set: { _id: new ObjectId() } })).rejects.toMatchObject({ code: 66 });
  });

  it('runs pipeline-style updates', async () => {
    const c = coll('pipeline');
    await c.insertOne({ k: 1, a: 2, b: 3 });
    await c.updateOne({ k: 1 }, [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'b' }]);
    expect(await c.findOne({ k: 1 }, { projection: { _id: 0 } })).toEqual({ k: 1, a: 2, sum: 5 });
  });

  it('rejects unknown update operators', async () => {
    const c = coll('badop');
    await c.insertOne({ a: 1 });
    await expect(c.updateOne({ a: 1 }, { $frobnicate: { a: 2 } } as Document)).rejects.toMatchObject({ code: 9 });
    await expect(c.updateOne({ a: 1 }, { $inc: { a: 'x' } } as Document)).rejects.toMatchObject({ code: 14 });
  });
});

describe('deletes and findAndModify', () => {
  it('deletes one and many', async () => {
    const c = coll('delete');
    await c.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }, { k: 3 }]);
    expect((await c.deleteOne({ k: 1 })).deletedCount).toBe(1);
    expect((await c.deleteMany({ k: { $gte: 1 } })).deletedCount).toBe(3);
    expect(await c.countDocuments()).toBe(0);
  });

  it('findOneAndUpdate returns before/after, honours sort and upserts', async () => {
    const c = coll('fam');
    await c.insertMany([{ q: 'job', p: 2, state: 'new' }, { q: 'job', p: 5, state: 'new' }]);
    const before = await c.findOneAndUpdate({ q: 'job', state: 'new' }, { $set: { state: 'locked' } }, { sort: { p: -1 }, returnDocument: 'before' });
    expect(before).toMatchObject({ p: 5, state: 'new' });
    const after = await c.findOneAndUpdate({ q: 'job', state: 'new' }, { $set: { state: 'locked' } }, { returnDocument: 'after', projection: { _id: 0 } });
    expect(after).toEqual({ q: 'job', p: 2, state: 'locked' });
    expect(await c.findOneAndUpdate({ q: 'job', state: 'new' }, { $set: { state: 'x' } })).toBeNull();
    const up = await c.findOneAndUpdate({ q: 'other' }, { $set: { state: 'made' } }, { upsert: true, returnDocument: 'after', includeResultMetadata: true });
    expect(up.value).toMatchObject({ q: 'other', state: 'made' });
    expect(up.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
  });

  it('findOneAndDelete and findOneAndReplace', async () => {
    const c = coll('fad');
    await c.insertMany([{ k: 1, v: 'a' }, { k: 2, v: 'b' }]);
    expect(await c.findOneAndDelete({ k: 1 }, { projection: { _id: 0 } })).toEqual({ k: 1, v: 'a' });
    expect(await c.findOneAndReplace({ k: 2 }, { k: 2, v: 'c' }, { returnDocument: 'after', projection: { _id: 0 } })).toEqual({ k: 2, v: 'c' });
    expect(await c.countDocuments()).toBe(1);
  });

  it('bulkWrite mixes operations and reports ordered errors', async () => {
    const c = coll('bulk');
    const res = await c.bulkWrite([
      { insertOne: { document: { _id: 1 as unknown as ObjectId, v: 1 } } },
      { updateOne: { filter: { _id: 1 as unknown as ObjectId }, update: { $inc: { v: 1 } } } },
      { updateOne: { filter: { _id: 2 as unknown as ObjectId }, update: { $set: { v: 9 } }, upsert: true } },
      { deleteOne: { filter: { _id: 2 as unknown as ObjectId } } },
    ]);
    expect(res.insertedCount).toBe(1);
    expect(res.modifiedCount).toBe(1);
    expect(res.upsertedCount).toBe(1);
    expect(res.deletedCount).toBe(1);
    const err = await c.insertMany([{ _id: 3 as unknown as ObjectId }, { _id: 1 as unknown as ObjectId }, { _id: 4 as unknown as ObjectId }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000 });
    expect(await c.countDocuments({ _id: { $in: [3, 4] as unknown as ObjectId[] } })).toBe(1);
    const unordered = await c.insertMany([{ _id: 5 as unknown as ObjectId }, { _id: 1 as unknown as ObjectId }, { _id: 6 as unknown as ObjectId }], { ordered: false }).catch((e: unknown) => e);
    expect(unordered).toBeInstanceOf(MongoBulkWriteError);
    expect(unordered).toMatchObject({ code: 11000, insertedCount: 2, writeErrors: [expect.objectContaining({ index: 1, code: 11000 })] });
    expect(await c.countDocuments({ _id: { $in: [5, 6] as unknown as ObjectId[] } })).toBe(2);
  });
});
