import { ObjectId } from 'bson';
import { DevDbError, ErrorCode } from '../errors.js';
import { setPath } from './paths.js';
import { applyUpdate, idFirst, type UpdateSpec } from './update.js';
import { deepClone, isPlainObject, type Doc } from './values.js';
import type { PositionalContext } from './paths.js';

/** Fields a query pins to one value; an upsert starts from these (as MongoDB does). */
function equalityFields(filter: Doc, out: Array<[string, unknown]>): void {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const f of v) if (isPlainObject(f)) equalityFields(f, out);
      continue;
    }
    if (k.startsWith('$')) continue;
    if (v instanceof RegExp) continue;
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.some((x) => x.startsWith('$'))) {
        if (keys.length === 1 && '$eq' in v) out.push([k, v.$eq]);
        continue;
      }
    }
    out.push([k, v]);
  }
}

/** Builds the document an upsert inserts when nothing matched. */
export function buildUpsertDoc(filter: Doc, spec: UpdateSpec, ctx: PositionalContext, now: () => Date, variables?: Doc): Doc {
  const base: Doc = {};
  if (spec.kind !== 'replace') {
    const fields: Array<[string, unknown]> = [];
    equalityFields(filter, fields);
    for (const [path, value] of fields) {
      if (path.includes('$')) continue;
      setPath(base, path.split('.'), deepClone(value));
    }
  } else if (filter._id !== undefined && !isPlainObject(filter._id) && !(filter._id instanceof RegExp)) {
    base._id = filter._id;
  } else if (isPlainObject(filter._id) && '$eq' in filter._id) {
    base._id = filter._id.$eq;
  }
  let doc = applyUpdate(base, spec, ctx, true, now, variables);
  if (spec.kind === 'replace' && base._id !== undefined && doc._id === undefined) doc = { _id: base._id, ...doc };
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
  if (Array.isArray(doc._id)) throw new DevDbError(ErrorCode.InvalidIdField, "The '_id' value cannot be of type array");
  return idFirst(doc);
}
