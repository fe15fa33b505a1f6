import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('indexes'); });
afterAll(async () => { await ctx.close(); });

describe('indexes', () => {
  it('rejects duplicates on a unique index with MongoDB’s error shape', async () => {
    const c = ctx.db.collection('people');
    expect(await c.createIndex({ email: 1 }, { unique: true })).toBe('email_1');
    await c.insertOne({ email: 'x@y.io' });
    const err = await c.insertOne({ email: 'x@y.io' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    const e = err as MongoServerError;
    expect(e.code).toBe(11000);
    expect(e.message).toBe(`E11000 duplicate key error collection: ${ctx.db.databaseName}.people index: email_1 dup key: { email: "x@y.io" }`);
    expect(e.keyPattern).toEqual({ email: 1 });
    expect(e.keyValue).toEqual({ email: 'x@y.io' });
    const upd = await c.insertOne({ email: 'other@y.io' }).then(() => c.updateOne({ email: 'other@y.io' }, { $set: { email: 'x@y.io' } })).catch((x: unknown) => x);
    expect(upd).toMatchObject({ code: 11000 });
  });

  it('enforces compound unique keys and duplicate _id', async () => {
    const c = ctx.db.collection('compound');
    await c.createIndex({ tenant: 1, key: 1 }, { unique: true, name: 'tenant_key' });
    await c.insertMany([{ tenant: 'a', key: 1 }, { tenant: 'b', key: 1 }]);
    await expect(c.insertOne({ tenant: 'a', key: 1 })).rejects.toMatchObject({ code: 11000, keyValue: { tenant: 'a', key: 1 } });
    await c.insertOne({ _id: 'same' as never });
    await expect(c.insertOne({ _id: 'same' as never })).rejects.toMatchObject({ code: 11000, keyPattern: { _id: 1 } });
  });

  it('fails to build a unique index over existing duplicates', async () => {
    const c = ctx.db.collection('dups');
    await c.insertMany([{ k: 1 }, { k: 1 }]);
    await expect(c.createIndex({ k: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
  });

  it('sparse and partial unique indexes skip documents they do not cover', async () => {
    const c = ctx.db.collection('sparse');
    await c.createIndex({ s: 1 }, { unique: true, sparse: true });
    await c.createIndex({ p: 1 }, { unique: true, partialFilterExpression: { live: true } });
    await c.insertMany([{ x: 1 }, { x: 2 }, { p: 1, live: false }, { p: 1, live: false }, { p: 1, live: true }]);
    await expect(c.insertOne({ p: 1, live: true })).rejects.toMatchObject({ code: 11000 });
  });

  it('indexes array elements (multikey)', async () => {
    const c = ctx.db.collection('multikey');
    await c.createIndex({ tags: 1 }, { unique: true });
    await c.insertOne({ tags: ['a', 'b'] });
    await expect(c.insertOne({ tags: ['c', 'b'] })).rejects.toMatchObject({ code: 11000 });
    expect(await c.countDocuments({ tags: 'b' })).toBe(1);
  });

  it('lists, creates idempotently and drops indexes', async () => {
    const c = ctx.db.collection('listing');
    await c.createIndexes([{ key: { a: 1 } }, { key: { b: -1, c: 1 }, name: 'bc' }, { key: { at: 1 }, expireAfterSeconds: 3600 }]);
    await c.createIndex({ a: 1 });
    const idx = await c.listIndexes().toArray();
    expect(idx.map((i) => i.name)).toEqual(['_id_', 'a_1', 'bc', 'at_1']);
    expect(idx.find((i) => i.name === 'bc')!.key).toEqual({ b: -1, c: 1 });
    expect(idx.find((i) => i.name === 'at_1')!.expireAfterSeconds).toBe(3600);
    // Same name, different signature (unique is part of it since MongoDB 4.9): IndexKeySpecsConflict.
    await expect(c.createIndex({ a: 1 }, { name: 'a_1', unique: true })).rejects.toMatchObject({ code: 86, codeName: 'IndexKeySpecsConflict' });
    // Same name and signature, another TTL: IndexOptionsConflict.
    await expect(c.createIndex({ at: 1 }, { expireAfterSeconds: 60 })).rejects.toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
    // Same signature under another name: IndexOptionsConflict.
    await expect(c.createIndex({ a: 1 }, { name: 'a_again' })).rejects.toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
    await c.dropIndex('bc');
    await expect(c.dropIndex('nope')).rejects.toMatchObject({ code: 27 });
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_', 'a_1', 'at_1']);
    await c.dropIndexes();
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('keeps two indexes on one key pattern that differ in signature (unique, collation)', async () => {
    const c = ctx.db.collection('signatures');
    await c.createIndex({ email: 1 });
    await c.createIndex({ email: 1 }, { name: 'email_unique', unique: true });
    await c.createIndex({ email: 1 }, { name: 'email_ci', collation: { locale: 'en', strength: 2 } });
    const indexes = await c.listIndexes().toArray();
    expect(indexes.map((i) => i.name)).toEqual(['_id_', 'email_1', 'email_unique', 'email_ci']);
    expect(indexes[3].collation).toMatchObject({ locale: 'en', strength: 2, caseLevel: false, numericOrdering: false });
    await c.insertOne({ email: 'a@x.io' });
    await expect(c.insertOne({ email: 'a@x.io' })).rejects.toMatchObject({ code: 11000, keyPattern: { email: 1 } });
  });

  it('refuses a hint that names no index', async () => {
    const c = ctx.db.collection('hinted');
    await c.createIndex({ k: 1 });
    await c.insertOne({ k: 1 });
    expect(await c.find({ k: 1 }).hint('k_1').toArray()).toHaveLength(1);
    expect(await c.find({ k: 1 }).hint({ k: 1 }).toArray()).toHaveLength(1);
    await expect(c.find({ k: 1 }).hint('nope').toArray()).rejects.toMatchObject({ code: 2 });
    await expect(c.updateOne({ k: 1 }, { $set: { x: 1 } }, { hint: { nope: 1 } })).rejects.toMatchObject({ code: 2 });
  });

  it('hides an index from queries and shows it again (collMod)', async () => {
    const c = ctx.db.collection('hidden');
    await c.createIndex({ k: 1 }, { hidden: true });
    await c.insertMany([{ k: 1 }, { k: 2 }]);
    expect((await c.listIndexes().toArray())[1]).toMatchObject({ name: 'k_1', hidden: true });
    expect(JSON.stringify(await c.find({ k: 1 }).explain('queryPlanner'))).toContain('COLLSCAN');
    expect(await ctx.db.command({ collMod: 'hidden', index: { name: 'k_1', hidden: false } })).toMatchObject({ hidden_old: true, hidden_new: false, ok: 1 });
    expect(JSON.stringify(await c.find({ k: 1 }).explain('queryPlanner'))).toContain('IXSCAN');
    expect(await c.countDocuments({ k: 1 })).toBe(1);
  });

  it('plans an index scan for equality on an indexed field', async () => {
    const c = ctx.db.collection('plan');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertMany(Array.from({ length: 200 }, (_, i) => ({ email: `u${i}@x.io`, n: i })));
    const withIndex = JSON.stringify(await c.find({ email: 'u7@x.io' }).explain('queryPlanner'));
    expect(withIndex).toContain('IXSCAN');
    expect(withIndex).toContain('email_1');
    const without = JSON.stringify(await c.find({ n: 7 }).explain('queryPlanner'));
    expect(without).toContain('COLLSCAN');
    expect(await c.findOne({ email: 'u7@x.io' })).toMatchObject({ n: 7 });
    expect(await c.countDocuments({ email: { $in: ['u1@x.io', 'u2@x.io', 'nope'] } })).toBe(2);
  });

  it('keeps index lookups correct after updates and deletes', async () => {
    const c = ctx.db.collection('maintain');
    await c.createIndex({ k: 1 });
    await c.insertMany([{ k: 1, v: 'a' }, { k: 2, v: 'b' }]);
    await c.updateOne({ k: 1 }, { $set: { k: 3 } });
    expect(await c.countDocuments({ k: 1 })).toBe(0);
    expect(await c.countDocuments({ k: 3 })).toBe(1);
    await c.deleteOne({ k: 2 });
    expect(await c.find({ k: { $in: [2, 3] } }).toArray()).toHaveLength(1);
  });

  it('answers range queries and sorted limits from an index, with MongoDB semantics', async () => {
    const c = ctx.db.collection('ranges');
    await c.createIndex({ at: 1 });
    await c.createIndex({ score: 1 });
    await c.createIndex({ tags: 1 });
    const base = Date.UTC(2026, 0, 1);
    await c.insertMany(Array.from({ length: 300 }, (_, i) => ({
      i,
      at: new Date(base + i * 60_000),
      score: i % 50,
      tags: i % 2 === 0 ? [i, i + 100] : i,
    })));
    await c.insertMany([{ i: 'no-at' }, { i: 'str-at', at: 'not a date' }]);
    const since = new Date(base + 290 * 60_000);
    expect((await c.find({ at: { $gte: since } }).toArray()).map((d) => d.i).sort((a, b) => a - b)).toEqual([290, 291, 292, 293, 294, 295, 296, 297, 298, 299]);
    expect(JSON.stringify(await c.find({ at: { $gte: since } }).explain('queryPlanner'))).toContain('IXSCAN');
    expect(await c.countDocuments({ at: { $lt: new Date(base + 5 * 60_000) } })).toBe(5);
    expect(await c.countDocuments({ score: { $gt: 47, $lte: 49 } })).toBe(12);
    // $gt and $lt on an array may be satisfied by different elements.
    expect((await c.find({ tags: { $gt: 99, $lt: 3 } }).toArray()).map((d) => d.i as number).sort((a, b) => a - b)).toEqual([0, 2]);
    const top = await c.find({}, { projection: { _id: 0, i: 1 } }).sort({ at: -1 }).limit(3).toArray();
    expect(top).toEqual([{ i: 299 }, { i: 298 }, { i: 297 }]);
    const first = await c.find({}, { projection: { _id: 0, i: 1 } }).sort({ at: 1 }).limit(2).toArray();
    expect(first).toEqual([{ i: 'no-at' }, { i: 'str-at' }]);
    const window = await c.find({ at: { $gt: since } }, { projection: { _id: 0, i: 1 } }).sort({ at: 1 }).skip(2).limit(2).toArray();
    expect(window).toEqual([{ i: 293 }, { i: 294 }]);
    await c.updateOne({ i: 0 }, { $set: { at: new Date(base + 10_000 * 60_000) } });
    expect((await c.find({}).sort({ at: -1 }).limit(1).toArray())[0].i).toBe(0);
    await c.deleteOne({ i: 0 });
    expect((await c.find({}).sort({ at: -1 }).limit(1).toArray())[0].i).toBe(299);
  });

  it('pages by _id from the _id index, in _id order and within the bound’s type, as writes come and go', async () => {
    const c = ctx.db.collection('idPages');
    const id = (n: number) => `p${String(n).padStart(4, '0')}`;
    // Inserted out of order, with _ids of other types that a string bound never reaches.
    await c.insertMany([...Array.from({ length: 250 }, (_, i) => ({ _id: id((i * 37) % 250), n: (i * 37) % 250 })), { _id: 7, n: -1 }, { _id: new Date(0), n: -2 }] as never);
    const page = async (after: string | null, limit: number, dir: 1 | -1 = 1) =>
      (await c.find(after === null ? { _id: { $type: 'string' } } : { _id: dir === 1 ? { $gt: after } : { $lt: after } } as never, { projection: { _id: 1 } }).sort({ _id: dir }).limit(limit).toArray()).map((d) => d._id);
    expect(JSON.stringify(await c.find({ _id: { $gt: id(10) } } as never).sort({ _id: 1 }).limit(5).explain('queryPlanner'))).toContain('IXSCAN');
    const seen: unknown[] = [];
    for (let after: string | null = null; ;) {
      const ids = await page(after, 100);
      seen.push(...ids);
      if (ids.length < 100) break;
      after = String(ids[ids.length - 1]);
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, n) => id(n)));
    await c.deleteMany({ _id: { $in: [id(11), id(12)] } } as never);
    await c.insertOne({ _id: id(1000) } as never);
    expect(await page(id(10), 3)).toEqual([id(13), id(14), id(15)]);
    expect(await page(id(249), 5)).toEqual([id(1000)]);
    expect(await page(id(13), 3, -1)).toEqual([id(10), id(9), id(8)]);
    expect(await c.countDocuments({ _id: { $gte: id(240), $lt: id(245) } } as never)).toBe(5);
    expect(await c.countDocuments({ _id: { $gt: 5 } } as never)).toBe(1);
  });
});
