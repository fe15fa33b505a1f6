import { describe, expect, it } from 'vitest';
import { parseDateTime, parseJsonObject } from '../../lib/subgraph/scalars.js';
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
});
