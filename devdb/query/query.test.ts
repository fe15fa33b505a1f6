import { describe, expect, it } from 'vitest';
import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { compareValues, sortDocs, parseSort } from './compare.js';
import { Matcher } from './match.js';
import { buildUpsertDoc } from './upsert.js';
import { applyUpdate, parseUpdate } from './update.js';
import { describeUpdate } from './diff.js';
import { fromWire, keyOf } from './values.js';
import { equalityConditions } from './planner.js';

const ctx = { filter: {}, arrayFilters: new Map() };
const now = (): Date => new Date(0);

describe('values', () => {
  it('keeps non-default numeric types as objects and plain int32/double as numbers', () => {
    const doc = fromWire({ a: new Int32(1), b: new Double(1.5), c: new Double(2), d: Long.fromNumber(3) }) as Record<string, unknown>;
    expect(doc.a).toBe(1);
    expect(doc.b).toBe(1.5);
    expect(doc.c).toBeInstanceOf(Double);
    expect(doc.d).toBeInstanceOf(Long);
  });

  it('gives equal numbers of different types the same key', () => {
    expect(keyOf(5)).toBe(keyOf(Long.fromNumber(5)));
    expect(keyOf(5)).toBe(keyOf(new Double(5)));
    expect(keyOf(5)).toBe(keyOf(Decimal128.fromString('5')));
    expect(keyOf({ a: 1, b: 2 })).not.toBe(keyOf({ b: 2, a: 1 }));
    expect(keyOf(null)).toBe(keyOf(undefined));
  });

  it('orders values as MongoDB does', () => {
    const oid = new ObjectId();
    const sorted = [true, 'b', oid, 2, null, new Date(5), { a: 1 }, [1]].sort(compareValues);
    expect(sorted).toEqual([null, 2, 'b', { a: 1 }, [1], oid, true, new Date(5)]);
    expect(compareValues(Long.fromString('9007199254740993'), Long.fromString('9007199254740992'))).toBe(1);
  });

  it('sorts arrays by their smallest element ascending and largest descending', () => {
    const docs = [{ v: [1, 9] }, { v: [5] }];
    expect(sortDocs(docs, parseSort({ v: 1 }))).toEqual([{ v: [1, 9] }, { v: [5] }]);
    expect(sortDocs(docs, parseSort({ v: -1 }))).toEqual([{ v: [1, 9] }, { v: [5] }]);
  });
});

describe('matcher', () => {
  it('compares Long/Decimal values by number through mingo', () => {
    const m = new Matcher({ n: { $gt: 4 } });
    expect(m.test({ n: Long.fromNumber(5) })).toBe(true);
    expect(m.test({ n: Decimal128.fromString('3.5') })).toBe(false);
  });

  it('matches simple equality filters on scalars and array elements', () => {
    const m = new Matcher({ tag: 'x', n: 1 });
    expect(m.test({ tag: ['y', 'x'], n: Long.fromNumber(1) })).toBe(true);
    expect(m.test({ tag: 'x' })).toBe(false);
  });

  it('answers $ne and $nin as MongoDB does: missing fields match, an array matches when no element is listed', () => {
    const docs = [{ s: 'a' }, { s: 'b' }, {}, { s: null }, { s: ['a', 'c'] }, { s: ['c'] }, { s: Long.fromNumber(1) }, { s: 1 }];
    const simple = (filter: Record<string, unknown>) => docs.map((doc) => new Matcher(filter).test(doc));
    // The same condition inside $and goes through mingo: both paths must agree.
    const general = (filter: Record<string, unknown>) => docs.map((doc) => new Matcher({ $and: [filter] }).test(doc));
    for (const filter of [{ s: { $ne: 'a' } }, { s: { $nin: ['a', 1] } }, { s: { $eq: 'a' } }, { s: { $in: ['c', 1] } }]) {
      expect(simple(filter), JSON.stringify(filter)).toEqual(general(filter));
    }
    expect(simple({ s: { $ne: 'a' } })).toEqual([false, true, true, true, false, true, true, true]);
  });

  it('evaluates aggregation expressions wherever a filter holds them, with query operators around them', () => {
    const m = new Matcher({ v: { $not: { $gt: 2 } }, $or: [{ a: { $exists: false } }, { $and: [{ $expr: { $gt: ['$a', { $toInt: '$b' }] } }] }] });
    expect(m.test({ a: 2, b: '1' })).toBe(true);
    expect(m.test({ b: 5 })).toBe(true);
    expect(m.test({ a: 1, b: '2', v: 1 })).toBe(false);
    expect(m.test({ a: 2, b: '1', v: Long.fromNumber(3) })).toBe(false);
  });
});

describe('planner', () => {
  it('extracts equality and $in conditions, also inside $and', () => {
    const eq = equalityConditions({ a: 1, b: { $in: [1, 2] }, c: { $gt: 1 }, d: null, $and: [{ e: { $eq: 'x' } }] });
    expect([...eq.keys()].sort()).toEqual(['a', 'b', 'e']);
  });
});

describe('updates', () => {
  it('rejects conflicting paths', () => {
    expect(() => parseUpdate({ $set: { a: 1 }, $inc: { 'a.b': 1 } })).toThrow(/conflict/);
  });

  it('builds upserts from equality fields, dotted paths included', () => {
    const doc = buildUpsertDoc({ 'a.b': 1, c: { $gt: 1 }, $and: [{ d: 'x' }] }, parseUpdate({ $set: { e: 1 } }), ctx, now);
    expect(doc).toMatchObject({ a: { b: 1 }, d: 'x', e: 1 });
    expect(doc).not.toHaveProperty('c');
    expect(Object.keys(doc)[0]).toBe('_id');
  });

  it('never mutates the stored document', () => {
    const stored = { _id: 1, a: { b: [1, 2] } };
    const next = applyUpdate(stored, parseUpdate({ $push: { 'a.b': 3 }, $set: { 'a.c': 1 } }), ctx, false, now);
    expect(stored).toEqual({ _id: 1, a: { b: [1, 2] } });
    expect(next).toEqual({ _id: 1, a: { b: [1, 2, 3], c: 1 } });
  });

  it('describes changes for change events', () => {
    expect(describeUpdate({ _id: 1, a: 1, b: { c: 1, d: 2 }, e: [1, 2, 3] }, { _id: 1, a: 2, b: { c: 1 }, e: [1, 5] })).toEqual({
      updatedFields: { a: 2, 'e.1': 5 },
      removedFields: ['b.d'],
      truncatedArrays: [{ field: 'e', newSize: 2 }],
    });
  });
});

describe('bounded sort', () => {
  it('returns the same first documents as a full sort', () => {
    const docs = Array.from({ length: 500 }, (_, i) => ({ i, v: (i * 7919) % 101, w: i % 3 }));
    const spec = parseSort({ v: -1, w: 1 });
    expect(sortDocs(docs, spec, 10)).toEqual(sortDocs(docs, spec).slice(0, 10));
  });
});
