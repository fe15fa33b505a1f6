import { Decimal128, Double, Int32, Long } from 'bson';

/**
 * Stored documents keep BSON numeric types this way, so they round-trip exactly:
 *  - a JS number that is an integer in int32 range is an Int32, any other JS number is a Double
 *    (this is how `bson` serializes JS numbers);
 *  - a Double whose value is an int32-range integer stays a `Double` object;
 *  - Long and Decimal128 stay objects.
 * mingo compares plain JS values, so documents holding wrapped numbers are "plained" before matching.
 */
export type Doc = Record<string, unknown>;

export type NumKind = 'int' | 'long' | 'double' | 'decimal';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function bsonType(v: unknown): string | undefined {
  if (v !== null && typeof v === 'object') return (v as { _bsontype?: string })._bsontype;
  return undefined;
}

export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX && !Object.is(n, -0);
}

export function numKind(v: unknown): NumKind | undefined {
  if (typeof v === 'number') return isInt32(v) ? 'int' : 'double';
  switch (bsonType(v)) {
    case 'Int32': return 'int';
    case 'Double': return 'double';
    case 'Long': return 'long';
    case 'Decimal128': return 'decimal';
    default: return undefined;
  }
}

/** The value of any BSON numeric as a JS number (lossy for huge Long and Decimal128). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  switch (bsonType(v)) {
    case 'Int32': return (v as Int32).value;
    case 'Double': return (v as Double).value;
    case 'Long': return (v as Long).toNumber();
    case 'Decimal128': return Number((v as Decimal128).toString());
    default: return Number.NaN;
  }
}

/** Builds the stored representation of a number of the given kind. */
export function makeNumber(kind: NumKind, value: number | bigint): unknown {
  switch (kind) {
    case 'int':
      return Number(value);
    case 'long':
      return typeof value === 'bigint' ? Long.fromBigInt(value) : Long.fromNumber(value);
    case 'double': {
      const n = Number(value);
      return isInt32(n) ? new Double(n) : n;
    }
    case 'decimal':
      return Decimal128.fromString(String(value));
  }
}

/**
 * Converts a freshly decoded (promoteValues: false) value into the stored representation, in place:
 * Int32 objects become JS numbers, Doubles become JS numbers unless that would turn them into an Int32.
 */
export function fromWire(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = fromWire(v[i]);
    return v;
  }
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Int32') return (v as Int32).value;
  if (t === 'Double') {
    const n = (v as Double).value;
    return isInt32(n) ? v : n;
  }
  if (t !== undefined) return v;
  if (v instanceof Date || v instanceof RegExp) return v;
  const o = v as Doc;
  for (const k of Object.keys(o)) o[k] = fromWire(o[k]);
  return o;
}

/** True if the value holds a Long, Decimal128 or Double object that mingo would not compare as a number. */
export function hasWrappedNumbers(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasWrappedNumbers);
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Long' || t === 'Decimal128' || t === 'Double' || t === 'Int32') return true;
  if (t !== undefined || v instanceof Date || v instanceof RegExp) return false;
  for (const k in v as Doc) if (hasWrappedNumbers((v as Doc)[k])) return true;
  return false;
}

/** A copy where every BSON numeric is a JS number: what mingo can compare. */
export function toPlain(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toPlain);
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Long' || t === 'Decimal128' || t === 'Double' || t === 'Int32') return toNumber(v);
  if (t !== undefined || v instanceof Date || v instanceof RegExp) return v;
  const out: Doc = {};
  for (const k of Object.keys(v as Doc)) out[k] = toPlain((v as Doc)[k]);
  return out;
}

/** Deep copy of plain objects and arrays; BSON values and Dates are immutable here and shared. */
export function deepClone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(deepClone) as T;
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) out[k] = deepClone((v as Doc)[k]);
  return out as T;
}

/** Canonical equality string for a value (index keys, $addToSet, distinct). Numbers compare by value. */
export function keyOf(v: unknown): string {
  if (v === undefined || v === null) return 'N';
  switch (typeof v) {
    case 'number': return numKey(v);
    case 'string': return 's' + JSON.stringify(v);
    case 'boolean': return v ? 'b1' : 'b0';
    case 'bigint': return 'n' + v.toString();
    default: break;
  }
  if (Array.isArray(v)) return 'a[' + v.map(keyOf).join(',') + ']';
  if (v instanceof Date) return 'd' + v.getTime();
  if (v instanceof RegExp) return 'r' + JSON.stringify(v.source + '/' + v.flags);
  const t = bsonType(v);
  switch (t) {
    case 'Long': {
      const l = v as Long;
      const n = l.toNumber();
      return Number.isSafeInteger(n) ? numKey(n) : 'n' + l.toString();
    }
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return numKey(toNumber(v));
    case 'ObjectId': return 'o' + (v as { toHexString(): string }).toHexString();
    case 'Timestamp': return 't' + (v as Long).toString();
    case 'Binary': {
      const b = v as { sub_type: number; toString(enc: 'base64'): string };
      return 'B' + b.sub_type + ':' + b.toString('base64');
    }
    case 'MinKey': return '-';
    case 'MaxKey': return '+';
    case undefined: break;
    default: return t + JSON.stringify(String(v));
  }
  const o = v as Doc;
  let s = '{';
  for (const k of Object.keys(o)) s += JSON.stringify(k) + ':' + keyOf(o[k]) + ',';
  return s + '}';
}

function numKey(n: number): string {
  if (Number.isNaN(n)) return 'nNaN';
  if (Object.is(n, -0)) return 'n0';
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && Number.isFinite(n)) return 'n' + BigInt(n).toString();
  return 'n' + String(n);
}

