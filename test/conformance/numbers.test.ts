import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal128, Double, Int32, Long, ObjectId, type Collection, type Document } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
let c: Collection<Document>;
beforeAll(async () => {
  ctx = await openConformance('numbers');
  c = ctx.db.collection('n');
});
afterAll(async () => { await ctx.close(); });

const raw = { promoteValues: false, promoteLongs: false } as const;

describe('BSON numeric types', () => {
  it('round-trip Int32, Long, Double and Decimal128 exactly', async () => {
    await c.insertOne({ k: 'types', i: new Int32(7), l: Long.fromString('9007199254740993'), d: new Double(5), f: 2.5, dec: Decimal128.fromString('1.10') });
    const doc = await c.findOne({ k: 'types' }, raw);
    expect(doc!.i).toBeInstanceOf(Int32);
    expect(doc!.l).toBeInstanceOf(Long);
    expect((doc!.l as Long).toString()).toBe('9007199254740993');
    expect(doc!.d).toBeInstanceOf(Double);
    expect((doc!.d as Double).value).toBe(5);
    expect(doc!.f).toBeInstanceOf(Double);
    expect(doc!.dec).toBeInstanceOf(Decimal128);
    expect((doc!.dec as Decimal128).toString()).toBe('1.10');
  });

  it('compares numbers by value across types', async () => {
    await c.insertMany([
      { k: 'cmp', v: new Int32(1) },
      { k: 'cmp', v: Long.fromNumber(2) },
      { k: 'cmp', v: new Double(3) },
      { k: 'cmp', v: Decimal128.fromString('4') },
      { k: 'cmp', v: 2.5 },
    ]);
    const vals = async (filter: Document): Promise<number[]> =>
      (await c.find({ k: 'cmp', ...filter }).sort({ v: 1 }).toArray()).map((d) => Number(d.v.toString()));
    expect(await vals({})).toEqual([1, 2, 2.5, 3, 4]);
    expect(await vals({ v: { $gt: 2 } })).toEqual([2.5, 3, 4]);
    expect(await vals({ v: 2 })).toEqual([2]);
    expect(await vals({ v: Long.fromNumber(3) })).toEqual([3]);
    expect(await vals({ v: { $in: [new Double(1), Decimal128.fromString('4')] } })).toEqual([1, 4]);
    const desc = (await c.find({ k: 'cmp' }).sort({ v: -1 }).limit(1).toArray())[0];
    expect(desc.v.toString()).toBe('4');
  });

  it('promotes types in $inc and $mul like MongoDB', async () => {
    await c.insertOne({ k: 'inc', i: new Int32(2147483647), l: Long.fromNumber(10), small: new Int32(1), d: new Double(1) });
    await c.updateOne({ k: 'inc' }, { $inc: { i: 1, l: 5, small: 1, d: 1, fresh: Long.fromNumber(3) }, $mul: { m: 2 } });
    const doc = await c.findOne({ k: 'inc' }, raw);
    expect(doc!.i).toBeInstanceOf(Long);
    expect((doc!.i as Long).toString()).toBe('2147483648');
    expect(doc!.l).toBeInstanceOf(Long);
    expect((doc!.l as Long).toString()).toBe('15');
    expect(doc!.small).toBeInstanceOf(Int32);
    expect((doc!.small as Int32).value).toBe(2);
    expect(doc!.d).toBeInstanceOf(Double);
    expect(doc!.fresh).toBeInstanceOf(Long);
    expect(doc!.m).toBeInstanceOf(Int32);
    expect((doc!.m as Int32).value).toBe(0);
  });

  it('matches documents holding Long values in unique index lookups', async () => {
    const u = ctx.db.collection('unique_long');
    await u.createIndex({ ext: 1 }, { unique: true });
    await u.insertOne({ ext: Long.fromNumber(42) });
    await expect(u.insertOne({ ext: 42 })).rejects.toMatchObject({ code: 11000 });
    expect(await u.countDocuments({ ext: new Double(42) })).toBe(1);
  });

  it('sorts mixed BSON types in MongoDB order', async () => {
    const m = ctx.db.collection('mixed');
    await m.insertMany([{ v: 'str' }, { v: 5 }, { v: null }, { v: true }, { v: new Date(0) }, { v: { a: 1 } }, { v: new ObjectId() }, { v: [0] }]);
    const label = (v: unknown): string => (v === null ? 'null' : v instanceof Date ? 'date' : v instanceof ObjectId ? 'objectId' : Array.isArray(v) ? 'array' : typeof v);
    const order = (await m.find({}).sort({ v: 1 }).toArray()).map((d) => label(d.v));
    // An array sorts by its smallest element (0), so it lands among the numbers.
    expect(order).toEqual(['null', 'array', 'number', 'string', 'object', 'objectId', 'boolean', 'date']);
  });
});
