/**
 * Collation (https://www.mongodb.com/docs/manual/reference/collation/): how strings compare. devdb
 * implements the locales Node's ICU knows (`en`, `en_US`, `fr`, ...) at strengths 1 to 3 with
 * `numericOrdering`; `simple` (binary comparison) is the same as no collation. Every other option
 * value is refused (InvalidOptions), never accepted and ignored.
 */
import { DevDbError, ErrorCode } from '../errors.js';
import { isPlainObject, keyOf, toNumber, type Doc } from './values.js';

export interface Collation {
  /** Identity of the comparison: two collations with the same id compare every string alike. */
  readonly id: string;
  /** The collation as MongoDB reports it (listIndexes). */
  readonly spec: Doc;
  /** The same with a BCP 47 locale, for mingo's `$sort`. */
  readonly mingoSpec: Doc;
  /** Orders two strings (ICU, through Intl.Collator). */
  compare(a: string, b: string): number;
  /** The equality key of a string: equal keys for strings this collation holds equal. */
  fold(s: string): string;
}

const KNOWN = new Set(['locale', 'strength', 'caseLevel', 'caseFirst', 'numericOrdering', 'alternate', 'maxVariable', 'normalization', 'backwards', 'version']);
/** Option values devdb honours as documented; MongoDB's defaults, so a spec that states them is accepted. */
const DEFAULT_VALUES: Doc = { caseLevel: false, caseFirst: 'off', alternate: 'non-ignorable', maxVariable: 'punct', normalization: false, backwards: false };
const SENSITIVITY = { 1: 'base', 2: 'accent', 3: 'variant' } as const;

function refuse(option: string, value: unknown): never {
  throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support collation option ${option}: ${JSON.stringify(value)} (supported: locale, strength 1-3, numericOrdering)`);
}

const cache = new Map<string, Collation>();

/** Parses a `collation` option; undefined for none or `simple`. */
export function parseCollation(raw: unknown): Collation | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainObject(raw)) throw new DevDbError(ErrorCode.TypeMismatch, "BSON field 'collation' is the wrong type, expected type 'object'");
  for (const k of Object.keys(raw)) {
    if (!KNOWN.has(k)) throw new DevDbError(ErrorCode.Location40415, `BSON field 'collation.${k}' is an unknown field.`);
  }
  if (typeof raw.locale !== 'string') throw new DevDbError(ErrorCode.BadValue, "Required field 'locale' is missing or not a string");
  for (const [k, v] of Object.entries(DEFAULT_VALUES)) {
    if (raw[k] !== undefined && raw[k] !== v) refuse(k, raw[k]);
  }
  if (raw.locale === 'simple') {
    const extra = Object.keys(raw).filter((k) => k !== 'locale');
    if (extra.length > 0) throw new DevDbError(ErrorCode.BadValue, `Collation options are not allowed with the 'simple' locale: ${extra.join(', ')}`);
    return undefined;
  }
  const strength = raw.strength === undefined ? 3 : toNumber(raw.strength);
  if (strength !== 1 && strength !== 2 && strength !== 3) {
    if (strength === 4 || strength === 5) refuse('strength', strength);
    throw new DevDbError(ErrorCode.BadValue, `collation strength must be an integer 1 through 5, got ${String(raw.strength)}`);
  }
  const numericOrdering = raw.numericOrdering === true;
  if (raw.numericOrdering !== undefined && typeof raw.numericOrdering !== 'boolean') {
    throw new DevDbError(ErrorCode.TypeMismatch, "BSON field 'collation.numericOrdering' is the wrong type, expected type 'bool'");
  }
  const locale = raw.locale;
  const bcp47 = locale.replace(/_/g, '-');
  let supported: string[];
  try {
    supported = Intl.Collator.supportedLocalesOf([bcp47]);
  } catch {
    supported = [];
  }
  if (supported.length === 0) throw new DevDbError(ErrorCode.BadValue, `Field 'locale' is invalid in: { locale: "${locale}" }`);
  const id = `${bcp47}/${strength}/${numericOrdering ? 'n' : ''}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const collator = new Intl.Collator(bcp47, { sensitivity: SENSITIVITY[strength], numeric: numericOrdering, usage: 'sort' });
  const fold = strength === 3 ? (s: string) => s.normalize('NFC') : foldFor(strength);
  const collation: Collation = {
    id,
    spec: { locale, caseLevel: false, caseFirst: 'off', strength, numericOrdering, alternate: 'non-ignorable', maxVariable: 'punct', normalization: false, backwards: false, version: '57.1' },
    mingoSpec: { locale: bcp47, strength, numericOrdering },
    compare: (a, b) => collator.compare(a, b),
    fold: numericOrdering ? (s) => fold(s).replace(/\d+/g, (d) => String(BigInt(d))) : fold,
  };
  cache.set(id, collation);
  return collation;
}

/**
 * Strength 2 ignores case (and width and other tertiary differences, which compatibility
 * decomposition removes); strength 1 also ignores accents (combining marks).
 */
function foldFor(strength: 1 | 2): (s: string) => string {
  return (s) => {
    const decomposed = s.normalize('NFKD').toUpperCase().toLowerCase();
    return (strength === 1 ? decomposed.replace(/\p{M}/gu, '') : decomposed).normalize('NFC');
  };
}

/** Whether a value is or holds a string (only such values compare differently under a collation). */
export function holdsString(v: unknown): boolean {
  if (typeof v === 'string') return true;
  if (Array.isArray(v)) return v.some(holdsString);
  if (isPlainObject(v)) {
    for (const k in v) if (holdsString(v[k])) return true;
  }
  return false;
}

/** A value with every string replaced by its equality key. */
export function foldValue(v: unknown, c: Collation): unknown {
  if (typeof v === 'string') return c.fold(v);
  if (Array.isArray(v)) return v.map((x) => foldValue(x, c));
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const k of Object.keys(v)) out[k] = foldValue(v[k], c);
    return out;
  }
  return v;
}

/** The canonical equality key of a value under a collation (keyOf when there is none). */
export function collatedKeyOf(v: unknown, c: Collation | undefined): string {
  return c && holdsString(v) ? keyOf(foldValue(v, c)) : keyOf(v);
}

export function sameCollation(a: Collation | undefined, b: Collation | undefined): boolean {
  return (a?.id ?? '') === (b?.id ?? '');
}
