import { Query } from './mingoContext.js';
import { DevDbError, ErrorCode } from '../errors.js';
import { toPlain, type Doc } from './values.js';

/** Applies a find projection (inclusion/exclusion, $slice, $elemMatch, positional `.$`) via mingo. */
export function project(docs: Doc[], projection: Doc | undefined, filter: Doc = {}): Doc[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  const spec = toPlain(projection) as Doc;
  const fields = topLevelFields(spec);
  if (fields) return docs.map((doc) => pick(doc, fields));
  const positional = Object.keys(spec).some((k) => k.endsWith('.$'));
  try {
    if (positional) {
      return new Query(toPlain(filter) as Doc).find(docs.map((d) => toPlain(d) as Doc), spec).all() as Doc[];
    }
    return new Query({}).find(docs, spec).all() as Doc[];
  } catch (err) {
    throw new DevDbError(ErrorCode.BadValue, err instanceof Error ? err.message : String(err));
  }
}

/**
 * The common projection, top-level fields only (`{ a: 1, b: 1 }`, `{ _id: 0, a: 1 }`, `{ a: 0 }`),
 * as which fields to keep or drop; undefined for anything else (paths, operators), left to mingo.
 */
function topLevelFields(spec: Doc): { include: boolean; names: Set<string>; keepId: boolean } | undefined {
  const names = new Set<string>();
  let include: boolean | undefined;
  let keepId = true;
  for (const [name, value] of Object.entries(spec)) {
    if (name.includes('.') || name.startsWith('$')) return undefined;
    if (value !== 0 && value !== 1 && value !== true && value !== false) return undefined;
    const on = value === 1 || value === true;
    if (name === '_id') {
      keepId = on;
      continue;
    }
    if (include !== undefined && include !== on) return undefined;
    include = on;
    names.add(name);
  }
  // `{ _id: 1 }` alone keeps only the id; `{ _id: 0 }` alone drops only it.
  return { include: include ?? keepId, names, keepId };
}

/** The document's own fields, in its order, that the projection keeps. */
function pick(doc: Doc, { include, names, keepId }: { include: boolean; names: Set<string>; keepId: boolean }): Doc {
  const out: Doc = {};
  for (const key of Object.keys(doc)) {
    const kept = key === '_id' ? keepId : names.has(key) === include;
    if (kept) out[key] = doc[key];
  }
  return out;
}
