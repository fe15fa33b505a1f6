import { isPlainObject, type Doc } from '../query/values.js';

/**
 * Stored documents share equal short strings and equal dates.
 *
 * Documents written in bulk repeat the same values: every membership or event of a run carries the
 * same segment, member type, status and run ids and the same few timestamps. Decoded from BSON, each
 * is an object of its own, and a `Date` alone costs about 110 bytes of heap, so a membership document
 * held twice what its values need. devdb treats dates as immutable (`deepClone` shares them too), so
 * documents can share one. The tables only speed sharing up: when one is full it starts over, and
 * a value not found is kept as it came.
 */
const MAX_STRING_LENGTH = 64;
const MAX_ENTRIES = 1 << 20;

const strings = new Map<string, string>();
const dates = new Map<number, Date>();

/** The value stored under `key`, or `value`, which is stored under it (the table starts over when full). */
function intern<K, V>(table: Map<K, V>, key: K, value: V): V {
  const known = table.get(key);
  if (known !== undefined) return known;
  if (table.size >= MAX_ENTRIES) table.clear();
  table.set(key, value);
  return value;
}

function shared(v: unknown): unknown {
  if (typeof v === 'string') return v.length <= MAX_STRING_LENGTH ? intern(strings, v, v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Date) return intern(dates, v.getTime(), v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = shared(v[i]);
  } else if (isPlainObject(v)) {
    for (const key in v) v[key] = shared(v[key]);
  }
  return v;
}

/**
 * Replaces, in place, the document's short strings and dates with equal ones already stored. The
 * top-level `_id` is unique by definition and left out, so it does not crowd the table. With
 * `previous`, the stored document an update replaces: the fields the update left as they were
 * hold shared values already and are skipped.
 */
export function shareValues(doc: Doc, previous?: Doc): void {
  for (const key in doc) {
    if (key === '_id') continue;
    const value = doc[key];
    if (previous !== undefined && previous[key] === value) continue;
    doc[key] = shared(value);
  }
}
