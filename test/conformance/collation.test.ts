/**
 * Collation (https://www.mongodb.com/docs/manual/reference/collation/), as the CRUD specification
 * tests of mongodb/specifications exercise it (source/crud/tests/unified/*-collation.yml):
 * strength 1 ignores case and accents, strength 2 ignores case only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Document } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('collation'); });
afterAll(async () => { await ctx.close(); });

const caseInsensitive = { locale: 'en_US', strength: 2 };
const baseLetters = { locale: 'en', strength: 1 };

async function seeded(name: string, docs: Document[]): Promise<Collection<Document>> {
  const c = ctx.db.collection(name);
  await c.insertMany(docs.map((d) => ({ ...d })));
  return c;
}

describe('collation on reads', () => {
  it('matches, counts and finds case-insensitively at strength 2, but not across accents', async () => {
    const c = await seeded('reads', [{ _id: 1, x: 'ping' } as Document, { _id: 2, x: 'PING' }, { _id: 3, x: 'píng' }, { _id: 4, x: 'pong' }]);
    expect((await c.find({ x: 'Ping' }, { collation: caseInsensitive }).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2]);
    expect(await c.countDocuments({ x: 'ping' }, { collation: caseInsensitive })).toBe(2);
    expect(await c.countDocuments({ x: { $in: ['PONG', 'nope'] } }, { collation: caseInsensitive })).toBe(1);
    expect(await c.countDocuments({ x: { $ne: 'PING' } }, { collation: caseInsensitive })).toBe(2);
    // Without a collation, strings compare by their binary value.
    expect(await c.countDocuments({ x: 'Ping' })).toBe(0);
  });

  it('ignores accents too at strength 1', async () => {
    const c = await seeded('accents', [{ _id: 1, x: 'café' } as Document, { _id: 2, x: 'CAFE' }, { _id: 3, x: 'cafes' }]);
    expect((await c.find({ x: 'cafe' }, { collation: baseLetters }).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2]);
    expect(await c.countDocuments({ x: 'cafe' }, { collation: caseInsensitive })).toBe(1);
  });

  it('answers distinct with one value per collation-equal group', async () => {
    const c = await seeded('distinct', [{ _id: 1, string: 'PING' } as Document, { _id: 2, string: 'ping' }]);
    expect(await c.distinct('string', {}, { collation: caseInsensitive })).toEqual(['PING']);
    expect((await c.distinct('string', {})).sort()).toEqual(['PING', 'ping']);
  });

  it('orders strings by the locale, not by code point, when sorting with a collation', async () => {
    const c = await seeded('sort', [{ _id: 1, s: 'b' } as Document, { _id: 2, s: 'B' }, { _id: 3, s: 'a' }, { _id: 4, s: 'C' }]);
    expect((await c.find({}).sort({ s: 1 }).toArray()).map((d) => d.s)).toEqual(['B', 'C', 'a', 'b']);
    const collated = (await c.find({}, { collation: { locale: 'en' } }).sort({ s: 1 }).toArray()).map((d) => d.s);
    expect(collated).toEqual(['a', 'b', 'B', 'C']);
    expect((await c.find({ s: { $gt: 'a' } }, { collation: caseInsensitive }).sort({ _id: 1 }).toArray()).map((d) => d.s)).toEqual(['b', 'B', 'C']);
  });

  it('applies the collation in an aggregation $match and $sort', async () => {
    const c = await seeded('aggregate', [{ _id: 1, x: 'ping' } as Document, { _id: 2, x: 'pong' }]);
    expect(await c.aggregate([{ $match: { x: 'PING' } }], { collation: caseInsensitive }).toArray()).toEqual([{ _id: 1, x: 'ping' }]);
  });

  it('orders numbers inside strings with numericOrdering', async () => {
    const c = await seeded('numeric', [{ _id: 1, v: '10' } as Document, { _id: 2, v: '9' }, { _id: 3, v: '100' }]);
    const sorted = await c.find({}, { collation: { locale: 'en', numericOrdering: true } }).sort({ v: 1 }).toArray();
    expect(sorted.map((d) => d.v)).toEqual(['9', '10', '100']);
  });
});

describe('collation on writes', () => {
  it('updates every case variant (updateMany) and one (updateOne)', async () => {
    const c = await seeded('update', [{ _id: 1, x: 11 } as Document, { _id: 2, x: 'ping' }, { _id: 3, x: 'pINg' }]);
    const many = await c.updateMany({ x: 'PING' }, { $set: { x: 'pong' } }, { collation: caseInsensitive });
    expect(many).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const one = await c.updateOne({ x: 'PONG' }, { $set: { x: 'done' } }, { collation: caseInsensitive });
    expect(one).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual([{ _id: 1, x: 11 }, { _id: 2, x: 'done' }, { _id: 3, x: 'pong' }]);
  });

  it('deletes and finds-and-modifies with a collation', async () => {
    const c = await seeded('delete', [{ _id: 1, x: 'ping' } as Document, { _id: 2, x: 'PING' }, { _id: 3, x: 'pong' }]);
    expect((await c.deleteMany({ x: 'Ping' }, { collation: caseInsensitive })).deletedCount).toBe(2);
    expect(await c.findOneAndUpdate({ x: 'PONG' }, { $set: { y: 1 } }, { collation: caseInsensitive, returnDocument: 'after' })).toEqual({ _id: 3, x: 'pong', y: 1 });
    expect(await c.findOneAndDelete({ x: 'PONG' }, { collation: caseInsensitive })).toEqual({ _id: 3, x: 'pong', y: 1 });
    expect(await c.countDocuments()).toBe(0);
  });

  it('applies each bulk write statement its own collation', async () => {
    const c = await seeded('bulk', [{ _id: 1, x: 'ping' } as Document, { _id: 2, x: 'PING' }, { _id: 3, x: 'pong' }, { _id: 4, x: 'PONG' }]);
    const res = await c.bulkWrite([
      { updateMany: { filter: { x: 'ping' }, update: { $set: { seen: true } }, collation: caseInsensitive } },
      { deleteOne: { filter: { x: 'pong' }, collation: caseInsensitive } },
      { replaceOne: { filter: { x: 'Pong' }, replacement: { x: 'replaced' }, collation: caseInsensitive } },
    ]);
    expect(res).toMatchObject({ matchedCount: 3, modifiedCount: 3, deletedCount: 1 });
    expect(await c.countDocuments({ seen: true })).toBe(2);
    expect(await c.countDocuments({ x: 'replaced' })).toBe(1);
  });

  it('enforces a case-insensitive unique index and answers queries with its collation', async () => {
    const c = ctx.db.collection('uniqueCi');
    await c.createIndex({ email: 1 }, { unique: true, collation: caseInsensitive, name: 'email_ci' });
    await c.insertOne({ email: 'Ada@Example.com' });
    await expect(c.insertOne({ email: 'ada@example.COM' })).rejects.toMatchObject({ code: 11000, keyPattern: { email: 1 } });
    expect(await c.findOne({ email: 'ADA@example.com' }, { collation: caseInsensitive, projection: { _id: 0 } })).toEqual({ email: 'Ada@Example.com' });
    expect(await c.findOne({ email: 'ADA@example.com' })).toBeNull();
  });
});

describe('collation options', () => {
  it('treats locale simple as binary comparison', async () => {
    const c = await seeded('simple', [{ x: 'a' }, { x: 'A' }]);
    expect(await c.countDocuments({ x: 'a' }, { collation: { locale: 'simple' } })).toBe(1);
  });

  it('refuses an unknown collation field', async () => {
    const c = await seeded('unknown', [{ x: 'a' }]);
    await expect(c.countDocuments({ x: 'a' }, { collation: { locale: 'en', bogus: true } as never })).rejects.toMatchObject({ code: 40415 });
  });
});
