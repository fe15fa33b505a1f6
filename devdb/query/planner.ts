import { isPlainObject, type Doc } from './values.js';

/** A value an index can look up by equality (not null, array, regex or operator document). */
function indexable(v: unknown): boolean {
  if (v === undefined || v === null || Array.isArray(v) || v instanceof RegExp) return false;
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t === 'MinKey' || t === 'MaxKey' || t === 'BSONRegExp') return false;
  if (isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'))) return false;
  return true;
}

/**
 * For each path the filter pins to a finite set of values ({a: v}, {a: {$eq: v}}, {a: {$in: [...]}},
 * also inside a top-level $and), the candidate values. Any document the filter matches has one of them
 * as (an element of) that field, so index lookups by these values return a superset of the matches.
 */
export function equalityConditions(filter: Doc): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const put = (path: string, values: unknown[]): void => {
    const prev = out.get(path);
    if (prev === undefined || values.length < prev.length) out.set(path, values);
  };
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const f of v) {
        if (!isPlainObject(f)) continue;
        for (const [p, vals] of equalityConditions(f)) put(p, vals);
      }
      continue;
    }
    if (k.startsWith('$')) continue;
    if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if ('$eq' in v && indexable(v.$eq)) put(k, [v.$eq]);
      else if (Array.isArray(v.$in) && v.$in.length > 0 && v.$in.every(indexable)) put(k, v.$in);
      continue;
    }
    if (indexable(v)) put(k, [v]);
  }
  return out;
}

/** Cartesian product of value lists, or undefined when it would be too large to be worth it. */
export function valueTuples(lists: unknown[][], limit = 5000): unknown[][] | undefined {
  let acc: unknown[][] = [[]];
  for (const l of lists) {
    if (acc.length * l.length > limit) return undefined;
    acc = acc.flatMap((t) => l.map((v) => [...t, v]));
  }
  return acc;
}

export interface RangeCondition {
  lower?: { value: unknown; inclusive: boolean };
  upper?: { value: unknown; inclusive: boolean };
}

/** Types whose ranges an index can walk (numbers, strings, ObjectIds, dates). */
function rangeable(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isNaN(v);
  if (typeof v === 'string' || v instanceof Date) return true;
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  return t === 'ObjectId' || t === 'Long' || t === 'Int32' || t === 'Double' || t === 'Decimal128';
}

/** `{ a: { $gt/$gte/$lt/$lte } }` conditions (top level or in $and), for range scans of an index. */
export function rangeConditions(filter: Doc): Map<string, RangeCondition> {
  const out = new Map<string, RangeCondition>();
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const f of v) {
        if (!isPlainObject(f)) continue;
        for (const [p, r] of rangeConditions(f)) if (!out.has(p)) out.set(p, r);
      }
      continue;
    }
    if (k.startsWith('$') || !isPlainObject(v)) continue;
    const r: RangeCondition = {};
    if ('$gt' in v && rangeable(v.$gt)) r.lower = { value: v.$gt, inclusive: false };
    else if ('$gte' in v && rangeable(v.$gte)) r.lower = { value: v.$gte, inclusive: true };
    if ('$lt' in v && rangeable(v.$lt)) r.upper = { value: v.$lt, inclusive: false };
    else if ('$lte' in v && rangeable(v.$lte)) r.upper = { value: v.$lte, inclusive: true };
    if (r.lower || r.upper) out.set(k, r);
  }
  return out;
}
