import { describe, expect, it } from 'vitest';
import { Long } from 'bson';
import { keyOf } from '../query/values.js';
import { OrderedKeys, type Bound } from './orderedKeys.js';

const entry = (value: unknown): { value: unknown; key: string } => ({ value, key: keyOf(value) });
const values = (it: Iterable<{ value: unknown }>): unknown[] => [...it].map((e) => e.value);
const b = (value: unknown, inclusive = false): Bound => ({ value, inclusive });

describe('OrderedKeys', () => {
  const build = (): OrderedKeys => {
    const ok = new OrderedKeys([]);
    // Enough values to span several chunks, inserted out of order.
    for (let i = 999; i >= 0; i--) ok.insert(entry(i * 2));
    ok.insert(entry('a'));
    ok.insert(entry(null));
    ok.insert(entry(new Date(5)));
    return ok;
  };

  it('walks ranges within the bound type, both directions', () => {
    const ok = build();
    expect(values(ok.range(b(10), b(16, true)))).toEqual([12, 14, 16]);
    expect(values(ok.range(b(10), b(16, true), true))).toEqual([16, 14, 12]);
    expect(values(ok.range(b(1995), undefined))).toEqual([1996, 1998]);
    expect(values(ok.range(undefined, b(4)))).toEqual([0, 2]);
    expect(values(ok.range(undefined, b(4), true))).toEqual([2, 0]);
    expect(values(ok.range(b(Long.fromNumber(1993), true), undefined))).toEqual([1994, 1996, 1998]);
    expect(values(ok.range(b(''), undefined))).toEqual(['a']);
  });

  it('orders every type and removes entries', () => {
    const ok = build();
    const all = values(ok.range(undefined, undefined));
    expect(all[0]).toBeNull();
    expect(all.at(-1)).toEqual(new Date(5));
    expect(ok.size).toBe(1003);
    for (let i = 0; i < 1000; i += 2) ok.remove(i * 2, keyOf(i * 2));
    expect(ok.size).toBe(503);
    expect(values(ok.range(b(0, true), b(10, true)))).toEqual([2, 6, 10]);
    expect(values(ok.range(undefined, undefined, true)).length).toBe(503);
  });
});
