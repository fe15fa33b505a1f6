import { describe, expect, it } from 'vitest';
import { documentNestingError, variablesShapeError } from '../../lib/subgraph/documentLimits.js';
import { JSON_LIMITS, parseDateTime, parseJsonObject } from '../../lib/subgraph/scalars.js';
import { createIdGenerator } from '../../lib/subgraph/ids.js';

describe('JSON scalar', () => {
  it('accepts plain objects with safe keys', () => {
    expect(parseJsonObject({ a: 1, b: [true, null, 'x'], c: { d: 2.5 } })).toEqual({ a: 1, b: [true, null, 'x'], c: { d: 2.5 } });
  });

  it.each([
    [[1], /must be an object/],
    ['text', /must be an object/],
    [{ $where: 'x' }, /"\$where"/],
    [{ a: { 'b.c': 1 } }, /"b\.c"/],
    [{ a: [{ $ne: 1 }] }, /"\$ne"/],
    [{ a: Number.NaN }, /finite/],
  ])('rejects %j', (value, message) => {
    expect(() => parseJsonObject(value)).toThrow(message);
  });

  const nested = (depth: number) => {
    let value: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };

  it('accepts 20 levels of nesting and refuses 21, however deep the value goes', () => {
    expect(() => parseJsonObject(nested(JSON_LIMITS.maxDepth - 1))).not.toThrow();
    expect(() => parseJsonObject(nested(JSON_LIMITS.maxDepth))).toThrow(/nested deeper than 20 levels/);
    // Half a million levels would overflow the stack of a check that recursed through the whole value.
    expect(() => parseJsonObject(nested(500_000))).toThrow(/nested deeper than 20 levels/);
  });

  it.each([
    ['too many values', () => ({ list: new Array(JSON_LIMITS.maxValues + 1).fill(0) }), /more than 10000 values/],
    ['too many bytes', () => ({ text: 'x'.repeat(JSON_LIMITS.maxBytes) }), /larger than 65536 bytes/],
    ['a key that is too long', () => ({ ['k'.repeat(JSON_LIMITS.maxKeyLength + 1)]: 1 }), /longer than 200 characters/],
  ])('refuses %s with BAD_USER_INPUT', (_name, value, message) => {
    expect(() => parseJsonObject(value())).toThrow(
      expect.objectContaining({ message: expect.stringMatching(message), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
  });
});

describe('request shape checks', () => {
  it('refuses documents nested deeper than 128 levels, ignoring brackets in strings and comments', () => {
    expect(documentNestingError(`{ a ${'{ b '.repeat(126)}${'}'.repeat(126)} }`)).toBeUndefined();
    expect(documentNestingError(`{ a ${'{ b '.repeat(128)}${'}'.repeat(128)} }`)?.message).toMatch(/nested deeper than 128/);
    const noisy = `{ a(s: "${'{'.repeat(500)}", t: """${'['.repeat(500)}""") # ${'('.repeat(500)}\n }`;
    expect(documentNestingError(noisy)).toBeUndefined();
  });

  it('refuses variables with an object of more than 1000 keys, at any depth, without recursion', () => {
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    expect(variablesShapeError({ a: [{ b: wide }] })?.extensions.code).toBe('BAD_USER_INPUT');
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(variablesShapeError({ deep })).toBeUndefined();
  });
});


describe('DateTime scalar', () => {
  it('parses dates as midnight UTC and date-times with offsets', () => {
    expect(parseDateTime('2026-01-31').toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseDateTime('2026-01-31T10:00:00+02:00').toISOString()).toBe('2026-01-31T08:00:00.000Z');
  });

  it.each(['31/01/2026', '2026-13-45', '2026-02-31', '', 'tomorrow'])('rejects %j', (value) => {
    expect(() => parseDateTime(value)).toThrow(/DateTime/);
  });
});

describe('id generator', () => {
  it('makes prefixed ids that sort by creation time', () => {
    let ms = Date.UTC(2026, 0, 1);
    const ids = createIdGenerator(() => new Date(ms));
    const first = ids('seg');
    ms += 1;
    const second = ids('seg');
    expect(first).toMatch(/^seg_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(second > first).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => ids('prof'))).size).toBe(1000);
  });

  it('keeps ids made within one millisecond in the order they were made', () => {
    const ids = createIdGenerator(() => new Date(Date.UTC(2026, 0, 1)));
    const made = Array.from({ length: 500 }, () => ids('prof'));
    expect([...made].sort()).toEqual(made);
  });
});
