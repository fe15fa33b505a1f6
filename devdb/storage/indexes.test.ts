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

  it('sees a key change in any field, arrays included', () => {
    const index = new Index({ v: 2, key: { s: 1, m: 1 }, name: 's_m' });
    expect(index.keysChanged({ s: 'x', m: 1, other: 1 }, { s: 'x', m: 1, other: 2 })).toBe(false);
    expect(index.keysChanged({ s: 'x', m: 1 }, { s: 'x', m: 2 })).toBe(true);
    expect(index.keysChanged({ s: 'x', m: [1, 2] }, { s: 'x', m: [1, 2] })).toBe(false);
    expect(index.keysChanged({ s: 'x', m: [1, 2] }, { s: 'x', m: 1 })).toBe(true);
  });
});
