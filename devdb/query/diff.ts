import { isPlainObject, keyOf, type Doc } from './values.js';

export interface UpdateDescription {
  updatedFields: Doc;
  removedFields: string[];
  truncatedArrays: Array<{ field: string; newSize: number }>;
}

/** The change-stream `updateDescription` between two versions of a document. */
export function describeUpdate(before: Doc, after: Doc): UpdateDescription {
  const desc: UpdateDescription = { updatedFields: {}, removedFields: [], truncatedArrays: [] };
  walk(before, after, '', desc);
  return desc;
}

function walk(a: Doc, b: Doc, prefix: string, desc: UpdateDescription): void {
  for (const k of Object.keys(a)) {
    if (!(k in b)) desc.removedFields.push(prefix + k);
  }
  for (const k of Object.keys(b)) {
    const av = a[k];
    const bv = b[k];
    const path = prefix + k;
    if (!(k in a)) { desc.updatedFields[path] = bv; continue; }
    if (isPlainObject(av) && isPlainObject(bv)) { walk(av, bv, path + '.', desc); continue; }
    if (Array.isArray(av) && Array.isArray(bv) && av.length > 0 && bv.length > 0) {
      // Like MongoDB's delta oplog entries: element-level changes (appends included) and truncations,
      // unless most of the array changed, in which case the whole array is reported.
      if (keyOf(av) === keyOf(bv)) continue;
      const changed: number[] = [];
      bv.forEach((el, i) => {
        if (i >= av.length || keyOf(el) !== keyOf(av[i])) changed.push(i);
      });
      if (changed.length * 2 > bv.length) { desc.updatedFields[path] = bv; continue; }
      if (bv.length < av.length) desc.truncatedArrays.push({ field: path, newSize: bv.length });
      for (const i of changed) desc.updatedFields[`${path}.${i}`] = bv[i];
      continue;
    }
    if (keyOf(av) !== keyOf(bv) || bsonTypeDiffers(av, bv)) desc.updatedFields[path] = bv;
  }
}

function bsonTypeDiffers(a: unknown, b: unknown): boolean {
  const ta = a !== null && typeof a === 'object' ? (a as { _bsontype?: string })._bsontype : typeof a;
  const tb = b !== null && typeof b === 'object' ? (b as { _bsontype?: string })._bsontype : typeof b;
  return ta !== tb;
}
