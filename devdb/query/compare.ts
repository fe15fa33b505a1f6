import type { Long } from 'bson';
import { bsonType, isPlainObject, keyOf, numKind, toNumber, type Doc } from './values.js';

/** MongoDB's BSON comparison order of types (null and missing sort together, numbers together). */
export function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 1;
  switch (typeof v) {
    case 'number': case 'bigint': return 2;
    case 'string': return 4;
    case 'boolean': return 9;
    default: break;
  }
  if (Array.isArray(v)) return 6;
  if (v instanceof Date) return 10;
  if (v instanceof RegExp) return 12;
  switch (bsonType(v)) {
    case 'MinKey': return 0;
    case 'Int32': case 'Double': case 'Long': case 'Decimal128': return 2;
    case 'BSONSymbol': return 4;
    case 'Binary': return 7;
    case 'ObjectId': return 8;
    case 'Timestamp': return 11;
    case 'BSONRegExp': return 12;
    case 'MaxKey': return 13;
    default: return 5;
  }
}

function compareNumbers(a: unknown, b: unknown): number {
  const ka = numKind(a);
  const kb = numKind(b);
  if (ka === 'long' && kb === 'long') {
    return (a as Long).compare(b as Long);
  }
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
  if (Number.isNaN(y)) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareStrings(a: string, b: string): number {
  // MongoDB compares strings by UTF-8 bytes, i.e. by code point, not UTF-16 units.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export type StringOrder = (a: string, b: string) => number;

/** Total order over BSON values as MongoDB sorts them; `strings` orders strings (a collation's, or by code point). */
export function compareValues(a: unknown, b: unknown, strings: StringOrder = compareStrings): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1: case 0: case 13: return 0;
    case 2: return compareNumbers(a, b);
    case 4: return strings(String(a), String(b));
    case 9: return a === b ? 0 : a ? 1 : -1;
    case 10: return Math.sign((a as Date).getTime() - (b as Date).getTime());
    case 6: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i], strings);
        if (c !== 0) return c;
      }
      return Math.sign(x.length - y.length);
    }
    case 5: {
      if (!isPlainObject(a) || !isPlainObject(b)) return compareStrings(keyOf(a), keyOf(b));
      const ka = Object.keys(a);
      const kb = Object.keys(b);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const c = compareValues(a[ka[i]], b[kb[i]], strings);
        if (c !== 0) return c;
        const d = compareStrings(ka[i], kb[i]);
        if (d !== 0) return d;
      }
      return Math.sign(ka.length - kb.length);
    }
    case 8: return compareStrings(keyOf(a), keyOf(b));
    case 11: return (a as Long).compare(b as Long);
    default: return compareStrings(keyOf(a), keyOf(b));
  }
}

/** Values at a dotted path; arrays along the path fan out (as MongoDB paths do). */
export function valuesAtPath(doc: unknown, path: string): unknown[] {
  return collect(doc, path.split('.'), 0);
}

function collect(v: unknown, parts: string[], i: number): unknown[] {
  if (i === parts.length) return [v];
  if (Array.isArray(v)) {
    const key = parts[i];
    if (/^\d+$/.test(key)) return collect(v[Number(key)], parts, i + 1);
    const out: unknown[] = [];
    for (const el of v) if (el !== null && typeof el === 'object' && !Array.isArray(el)) out.push(...collect(el, parts, i));
    return out.length === 0 ? [undefined] : out;
  }
  if (v === null || typeof v !== 'object' || bsonType(v) !== undefined || v instanceof Date) return [undefined];
  return collect((v as Doc)[parts[i]], parts, i + 1);
}

/** The value a document sorts by for one key: arrays sort by their min (asc) or max (desc) element. */
function sortValue(doc: Doc, path: string, dir: number, strings?: StringOrder): unknown {
  const vals = valuesAtPath(doc, path);
  const flat: unknown[] = [];
  for (const v of vals) {
    if (Array.isArray(v)) {
      if (v.length === 0) flat.push(undefined);
      else flat.push(...v);
    } else flat.push(v);
  }
  let best = flat[0];
  for (let i = 1; i < flat.length; i++) {
    const c = compareValues(flat[i], best, strings);
    if ((dir > 0 && c < 0) || (dir < 0 && c > 0)) best = flat[i];
  }
  return best;
}

export type SortSpec = Array<[path: string, dir: number]>;

export function parseSort(sort: unknown): SortSpec {
  if (sort === undefined || sort === null) return [];
  if (!isPlainObject(sort)) return [];
  return Object.entries(sort).map(([k, v]) => {
    if (isPlainObject(v)) return [k, 1]; // { $meta: ... } — no text scores here; keep order stable
    return [k, toNumber(v) < 0 ? -1 : 1];
  });
}

export function sortComparator(spec: SortSpec, strings?: StringOrder): (a: Doc, b: Doc) => number {
  return (a, b) => {
    for (const [path, dir] of spec) {
      const c = compareValues(sortValue(a, path, dir, strings), sortValue(b, path, dir, strings), strings);
      if (c !== 0) return c * dir;
    }
    return 0;
  };
}

interface Keyed<T> { d: T; i: number; k: unknown[] }

/**
 * Sorts (stably) with per-document cached sort keys, which matters for large result sets. With `keep`
 * (skip + limit) only the first `keep` are needed: a bounded insertion keeps that O(n log keep).
 */
export function sortDocs<T extends Doc>(docs: T[], spec: SortSpec, keep = 0, strings?: StringOrder): T[] {
  if (spec.length === 0) return docs;
  const cmp = (x: Keyed<T>, y: Keyed<T>): number => {
    for (let j = 0; j < spec.length; j++) {
      const c = compareValues(x.k[j], y.k[j], strings);
      if (c !== 0) return c * spec[j][1];
    }
    return x.i - y.i;
  };
  const keyOfDoc = (d: T, i: number): Keyed<T> => ({ d, i, k: spec.map(([p, dir]) => sortValue(d, p, dir, strings)) });
  if (keep > 0 && keep * 8 < docs.length) {
    const best: Array<Keyed<T>> = [];
    docs.forEach((d, i) => {
      const e = keyOfDoc(d, i);
      if (best.length === keep && cmp(e, best[keep - 1]) >= 0) return;
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmp(best[mid], e) <= 0) lo = mid + 1; else hi = mid;
      }
      best.splice(lo, 0, e);
      if (best.length > keep) best.pop();
    });
    return best.map((e) => e.d);
  }
  const keyed = docs.map(keyOfDoc);
  keyed.sort(cmp);
  return keyed.map((e) => e.d);
}
