/**
 * String ids: `<prefix>_<26 chars>`, a ULID-like value (48-bit millisecond time,
 * then 80 random bits, Crockford base32, lowercase). Ids sort by creation time,
 * which keyset pagination on `_id` relies on for a stable, natural order.
 */
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'prof' | 'mrg' | 'acc' | 'opp' | 'rel' | 'seg' | 'dst' | 'run' | 'act' | 'src';

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

/** 80 bits as 16 Crockford base32 characters. */
function encodeRandom(value: bigint): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < 16; i++) {
    out = ALPHABET[Number(rest % 32n)] + out;
    rest /= 32n;
  }
  return out;
}

const RANDOM_LIMIT = 1n << 80n;

/**
 * Monotonic, as ULID specifies: within one millisecond (or when the clock steps
 * back) the random part is incremented, so ids made in order also sort in order,
 * e.g. the profiles of one batch.
 */
export function createIdGenerator(now: () => Date = () => new Date()): IdGenerator {
  let lastTime = -1;
  let lastRandom = 0n;
  return (prefix) => {
    const time = now().getTime();
    if (time > lastTime) {
      lastTime = time;
      lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`) >> 1n; // headroom for increments
    } else {
      lastRandom = (lastRandom + 1n) % RANDOM_LIMIT;
    }
    return `${prefix}_${encodeTime(lastTime)}${encodeRandom(lastRandom)}`;
  };
}
