import { DevDbError, ErrorCode } from '../errors.js';
import { Matcher, type MatchOptions } from './match.js';
import { bsonType, deepClone, isPlainObject, type Doc } from './values.js';

const isIndex = (s: string): boolean => /^\d+$/.test(s);

function isContainer(v: unknown): v is Doc | unknown[] {
  return Array.isArray(v) || isPlainObject(v);
}

export function getPath(doc: unknown, parts: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) {
      if (!isIndex(p)) return undefined;
      cur = cur[Number(p)];
    } else if (isPlainObject(cur)) {
      cur = cur[p];
    } else return undefined;
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  const t = bsonType(v);
  return t ?? typeof v;
}

/** Sets a value, creating intermediate documents (and padding arrays with null) like MongoDB. */
export function setPath(doc: Doc, parts: readonly string[], value: unknown): void {
  let cur: Doc | unknown[] = doc;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const last = i === parts.length - 1;
    if (Array.isArray(cur)) {
      if (!isIndex(p)) {
        throw new DevDbError(ErrorCode.PathNotViable, `Cannot create field '${p}' in element {${parts[i - 1]}: [...]}`);
      }
      const idx = Number(p);
      while (cur.length < idx) cur.push(null);
      if (last) { cur[idx] = value; return; }
      if (!isContainer(cur[idx])) {
        if (cur[idx] !== undefined && cur[idx] !== null) {
          throw new DevDbError(ErrorCode.PathNotViable, `Cannot create field '${parts[i + 1]}' in element {${p}: ${describe(cur[idx])}}`);
        }
        cur[idx] = {};
      }
      cur = cur[idx] as Doc | unknown[];
    } else {
      if (last) { cur[p] = value; return; }
      const next = cur[p];
      if (!isContainer(next)) {
        if (next !== undefined && next !== null) {
          throw new DevDbError(ErrorCode.PathNotViable, `Cannot create field '${parts[i + 1]}' in element {${p}: ${describe(next)}}`);
        }
        cur[p] = {};
      }
      cur = cur[p] as Doc | unknown[];
    }
  }
}

/** Removes a field; an array element is set to null instead, as MongoDB does. Returns whether it existed. */
export function unsetPath(doc: Doc, parts: readonly string[]): boolean {
  const parent = getPath(doc, parts.slice(0, -1));
  const last = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    if (!isIndex(last) || Number(last) >= parent.length) return false;
    parent[Number(last)] = null;
    return true;
  }
  if (isPlainObject(parent) && last in parent) {
    delete parent[last];
    return true;
  }
  return false;
}

/** What positional operators need to resolve: the query and the array filters. */
export interface PositionalContext {
  filter: Doc;
  arrayFilters: Map<string, Matcher>;
}

export function parseArrayFilters(arrayFilters: unknown, match?: MatchOptions): Map<string, Matcher> {
  const byId = new Map<string, Doc[]>();
  if (arrayFilters === undefined || arrayFilters === null) return new Map();
  if (!Array.isArray(arrayFilters)) throw new DevDbError(ErrorCode.TypeMismatch, 'arrayFilters must be an array');
  for (const f of arrayFilters) {
    if (!isPlainObject(f)) throw new DevDbError(ErrorCode.FailedToParse, 'arrayFilters entries must be objects');
    const ids = new Set(Object.keys(f).map((k) => k.split('.')[0]));
    if (ids.size !== 1) throw new DevDbError(ErrorCode.FailedToParse, 'Error parsing array filter :: caused by :: Expected a single top-level field name');
    const [id] = ids;
    byId.set(id, [...(byId.get(id) ?? []), f]);
  }
  const out = new Map<string, Matcher>();
  for (const [id, fs] of byId) out.set(id, new Matcher(fs.length === 1 ? fs[0] : { $and: fs }, match));
  return out;
}

/** Resolves `$`, `$[]` and `$[id]` into the concrete paths they name in this document. */
export function expandPath(doc: Doc, path: string, ctx: PositionalContext): string[][] {
  const parts = path.split('.');
  // Most update paths name no array element: they are their own expansion, without the walk (a closure per call).
  if (!path.includes('$')) return [parts];
  const results: string[][] = [];
  const walk = (prefix: string[], rest: string[]): void => {
    const i = rest.findIndex((p) => p === '$' || p.startsWith('$['));
    if (i < 0) { results.push([...prefix, ...rest]); return; }
    const arrPath = [...prefix, ...rest.slice(0, i)];
    const op = rest[i];
    const tail = rest.slice(i + 1);
    const arr = getPath(doc, arrPath);
    if (op === '$') {
      const idx = positionalIndex(doc, arrPath, ctx.filter);
      walk([...arrPath, String(idx)], tail);
      return;
    }
    if (!Array.isArray(arr)) {
      throw new DevDbError(ErrorCode.BadValue, `The path '${arrPath.join('.')}' must exist in the document in order to apply array updates.`);
    }
    if (op === '$[]') {
      arr.forEach((_, j) => walk([...arrPath, String(j)], tail));
      return;
    }
    const id = op.slice(2, -1);
    const m = ctx.arrayFilters.get(id);
    if (!m) throw new DevDbError(ErrorCode.BadValue, `No array filter found for identifier '${id}' in path '${path}'`);
    arr.forEach((el, j) => {
      if (m.test({ [id]: el })) walk([...arrPath, String(j)], tail);
    });
  };
  walk([], parts);
  return results;
}

function conditionsOn(filter: Doc, prefix: string, out: Doc[]): void {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) v.forEach((f) => isPlainObject(f) && conditionsOn(f, prefix, out));
    else if (k === prefix || k.startsWith(prefix + '.')) out.push({ [k]: v });
  }
}

/** The index of the first array element the query matched, for the `$` positional operator. */
function positionalIndex(doc: Doc, arrPath: string[], filter: Doc): number {
  const prefix = arrPath.join('.');
  const conds: Doc[] = [];
  conditionsOn(filter, prefix, conds);
  const arr = getPath(doc, arrPath);
  if (conds.length > 0 && Array.isArray(arr)) {
    const m = new Matcher(conds.length === 1 ? conds[0] : { $and: conds });
    for (let j = 0; j < arr.length; j++) {
      const probe = deepClone(doc);
      setPath(probe, arrPath, [arr[j]]);
      if (m.test(probe)) return j;
    }
  }
  throw new DevDbError(ErrorCode.BadValue, 'The positional operator did not find the match needed from the query.');
}
