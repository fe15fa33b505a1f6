/**
 * String ids: `<prefix>_<26 chars>`, a ULID-like value (48-bit millisecond time,
 * then 80 random bits, Crockford base32, lowercase). Ids sort by creation time,
 * which keyset pagination on `_id` relies on for a stable, natural order.
 */
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'prof' | 'acc' | 'opp' | 'rel' | 'seg' | 'dst';

/** Injected wherever behaviour depends on ids, so tests can make them deterministic. */
export type IdGenerator = (prefix: IdPrefix) => string;

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(ms: number): string {
  let out = '';
  let value = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

function encodeRandom(bytes: Buffer): string {
  // 10 bytes = 80 bits = 16 base32 characters.
  let bits = 0;
  let buffer = 0;
  let out = '';
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

export function createIdGenerator(now: () => Date = () => new Date()): IdGenerator {
  return (prefix) => `${prefix}_${encodeTime(now().getTime())}${encodeRandom(randomBytes(10))}`;
}
