/**
 * Whether a document to store may pass a size limit, without serializing it. `BSON.calculateObjectSize`
 * is exact but costs as much as writing the document out (it measures every string's UTF-8 length);
 * a batch of a thousand records paid it for every profile and fragment before each write. Almost
 * every document is far below MongoDB's 16 MB, so a bound that never falls short decides them, and
 * only a document near the limit is measured exactly.
 */
import { BSON } from 'mongodb';

/** Its BSON size when that is over `limit` bytes; null when it fits. */
export function bytesOverLimit(document: object, limit: number): number | null {
  if (sizeAtMost(document) <= limit) return null;
  const bytes = BSON.calculateObjectSize(document);
  return bytes > limit ? bytes : null;
}

/** A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair, two units, takes 4). */
const UTF8_BYTES_PER_UNIT = 3;
/** Fixed-size values (numbers, dates, ids, longs, decimals, timestamps) take at most 16 bytes. */
const MAX_FIXED_BYTES = 16;

/**
 * An upper bound of the document's BSON size: each element is its type byte, its name and its
 * value; a string is its length prefix, UTF-8 bytes and terminator. A value of a kind this does
 * not know answers Infinity, so the exact size is measured.
 */
export function sizeAtMost(document: object): number {
  let total = 5; // length prefix and terminator
  if (Array.isArray(document)) {
    for (let i = 0; i < document.length; i++) total += 2 + String(i).length + valueAtMost(document[i]);
  } else {
    for (const key in document) {
      if (!Object.prototype.hasOwnProperty.call(document, key)) continue;
      total += 2 + key.length * UTF8_BYTES_PER_UNIT + valueAtMost((document as Record<string, unknown>)[key]);
    }
  }
  return total;
}

function valueAtMost(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 5 + value.length * UTF8_BYTES_PER_UNIT;
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return MAX_FIXED_BYTES;
    case 'object':
      if (value === null || value instanceof Date) return MAX_FIXED_BYTES;
      if (Array.isArray(value)) return sizeAtMost(value);
      // A plain object is a sub-document; anything else (ObjectId, Binary, Long, a Map...) is measured exactly.
      return Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null ? sizeAtMost(value) : Infinity;
    default:
      return Infinity;
  }
}
