import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { bytesOverLimit, sizeAtMost } from '../../lib/mongo/documentSize.js';
import { Fuzz } from '../support/fuzz.js';

/** Documents shaped like what the profile subgraph stores: strings of any script, numbers, dates, nesting. */
function storedLike(fuzz: Fuzz): Record<string, unknown> {
  return {
    _id: fuzz.text(40),
    createdAt: new Date(1_700_000_000_000 + fuzz.int(1e9)),
    values: Array.from({ length: fuzz.int(20) }, () => ({ path: fuzz.text(30), value: fuzz.json(3), at: new Date() })),
    attributes: fuzz.json(4),
    version: fuzz.int(10),
  };
}

describe('document size bound', () => {
  it('is never below the BSON size, whatever the strings and nesting', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const document = storedLike(new Fuzz(seed));
      expect(sizeAtMost(document), `seed ${seed}`).toBeGreaterThanOrEqual(BSON.calculateObjectSize(document));
    }
  });

  it('counts characters outside the basic plane and outside ASCII at their UTF-8 length', () => {
    for (const text of ['😀'.repeat(1000), 'é'.repeat(1000), '\uffff'.repeat(1000), 'a'.repeat(1000)]) {
      const document = { [text.slice(0, 10)]: text, list: [text] };
      expect(sizeAtMost(document)).toBeGreaterThanOrEqual(BSON.calculateObjectSize(document));
    }
  });

  it('answers the exact size of a document over the limit, and null for one that fits', () => {
    const document = { _id: 'p1', notes: 'x'.repeat(2000) };
    const exact = BSON.calculateObjectSize(document);
    expect(bytesOverLimit(document, exact - 1)).toBe(exact);
    // The bound exceeds this limit, so the answer comes from the exact size.
    expect(bytesOverLimit(document, exact)).toBeNull();
    expect(bytesOverLimit(document, 16 * 1024 * 1024)).toBeNull();
  });

  it('measures values it does not know exactly rather than guessing', () => {
    const document = { _id: new BSON.ObjectId(), count: BSON.Long.fromNumber(5), blob: new BSON.Binary(Buffer.alloc(300)) };
    expect(sizeAtMost(document)).toBe(Infinity);
    const exact = BSON.calculateObjectSize(document);
    expect(bytesOverLimit(document, exact - 1)).toBe(exact);
    expect(bytesOverLimit(document, exact)).toBeNull();
  });
});
