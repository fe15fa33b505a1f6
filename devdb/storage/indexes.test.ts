import { describe, expect, it } from 'vitest';
import { Index } from './indexes.js';
import type { Rec } from './record.js';

let seq = 0;
const rec = (doc: Record<string, unknown>): Rec => ({ doc, wrapped: false, seq: ++seq, size: 0 });
const ids = (recs: Rec[]) => recs.map((r) => r.doc._id).sort();

describe('compound index prefixes', () => {
  it('answers a longer prefix first asked for after writes, and keeps it current after', () => {
    const index = new Index({ v: 2, key: { s: 1, st: 1, m: 1 }, name: 's_st_m' });
    const a = rec({ _id: 'a', s: 'x', st: 'realized', m: 1 });
    const b = rec({ _id: 'b', s: 'x', st: 'existing', m: 2 });
    const c = rec({ _id: 'c', s: 'x', st: ['realized', 'exited'], m: 3 });
    for (const r of [a, b, c]) index.add(r);
    // The (s, st) prefix is built on this first lookup, from what is indexed.
    expect(ids(index.lookup([['x', 'realized']]))).toEqual(['a', 'c']);
    const before = b.doc;
    b.doc = { ...before, st: 'realized' };
    index.remove(b, before);
    index.add(b);
    index.remove(a);
    expect(ids(index.lookup([['x', 'realized']]))).toEqual(['b', 'c']);
    expect(ids(index.lookup([['x', 'exited', 3]]))).toEqual(['c']);
    expect(ids(index.lookup([['x']]))).toEqual(['b', 'c']);
    expect(index.multikey).toBe(true);
  });

  it('keeps every prefix right when an update changes a later field and leaves the first field alone', () => {
    const index = new Index({ v: 2, key: { s: 1, st: 1, m: 1 }, name: 's_st_m' });
    const a = rec({ _id: 'a', s: 'x', st: 'realized', m: 1 });
    const b = rec({ _id: 'b', s: 'x', st: 'realized', m: 2 });
    for (const r of [a, b]) index.add(r);
    expect(ids(index.lookup([['x', 'realized']]))).toEqual(['a', 'b']);
    const update = (r: Rec, next: Record<string, unknown>) => {
      const before = r.doc;
      index.remove(r, before, next);
      r.doc = next;
      index.add(r, before);
    };
    update(a, { ...a.doc, st: 'existing' });
    // The status changes twice, then the segment: each prefix follows.
    update(b, { ...b.doc, st: 'exited' });
    update(b, { ...b.doc, st: 'realized', s: 'y' });
    expect(ids(index.lookup([['x']]))).toEqual(['a']);
    expect(ids(index.lookup([['x', 'existing']]))).toEqual(['a']);
    expect(ids(index.lookup([['x', 'realized']]))).toEqual([]);
    expect(ids(index.lookup([['x', 'exited']]))).toEqual([]);
    expect(ids(index.lookup([['y', 'realized', 2]]))).toEqual(['b']);
    expect([...index.range(undefined, undefined)].map((r) => r.doc._id)).toEqual(['a', 'b']);
  });

  it('takes an updated document out of a partial or sparse index when it leaves it, though its keys stay', () => {
    const partial = new Index({ v: 2, key: { s: 1 }, name: 's_partial', partialFilterExpression: { active: true } });
    const sparse = new Index({ v: 2, key: { s: 1, t: 1 }, name: 's_t_sparse', sparse: true });
    // Indexed values that stay equal as keys (a null and a missing field are both null) while the
    // partial filter stops matching, and the sparse index's last present field goes.
    const r = rec({ _id: 'a', s: 'x', t: null, active: true });
    const q = rec({ _id: 'b', t: null });
    partial.add(r);
    sparse.add(q);
    expect(partial.lookup([['x']])).toEqual([r]);
    expect(sparse.lookup([[null]])).toEqual([q]);
    const update = (index: Index, one: Rec, next: Record<string, unknown>) => {
      const before = one.doc;
      index.remove(one, before, next);
      one.doc = next;
      index.add(one, before);
    };
    update(partial, r, { _id: 'a', s: 'x', t: null, active: false });
    update(sparse, q, { _id: 'b' });
    expect(partial.lookup([['x']])).toEqual([]);
    expect(sparse.lookup([[null]])).toEqual([]);
  });

  it('sees a key change in any field, arrays included', () => {
    const index = new Index({ v: 2, key: { s: 1, m: 1 }, name: 's_m' });
    expect(index.keysChanged({ s: 'x', m: 1, other: 1 }, { s: 'x', m: 1, other: 2 })).toBe(false);
    expect(index.keysChanged({ s: 'x', m: 1 }, { s: 'x', m: 2 })).toBe(true);
    expect(index.keysChanged({ s: 'x', m: [1, 2] }, { s: 'x', m: [1, 2] })).toBe(false);
    expect(index.keysChanged({ s: 'x', m: [1, 2] }, { s: 'x', m: 1 })).toBe(true);
  });
});
