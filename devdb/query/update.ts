import { Timestamp } from 'bson';
import { Aggregator } from './mingoContext.js';
import { DevDbError, ErrorCode } from '../errors.js';
import { arith, zeroLike } from './arith.js';
import { compareValues, parseSort, sortDocs } from './compare.js';
import { Matcher } from './match.js';
import { expandPath, getPath, setPath, unsetPath, type PositionalContext } from './paths.js';
import { bsonType, deepClone, hasWrappedNumbers, isPlainObject, keyOf, toNumber, toPlain, type Doc } from './values.js';

const OPERATORS = new Set([
  '$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$currentDate', '$setOnInsert',
  '$push', '$addToSet', '$pop', '$pull', '$pullAll', '$bit',
]);

export type UpdateSpec = { kind: 'replace'; doc: Doc } | { kind: 'operators'; ops: Doc } | { kind: 'pipeline'; stages: Doc[] };

/** Classifies the `u` of an update: replacement document, operator document or aggregation pipeline. */
export function parseUpdate(u: unknown): UpdateSpec {
  if (Array.isArray(u)) {
    if (!u.every(isPlainObject)) throw new DevDbError(ErrorCode.FailedToParse, 'pipeline-style update stages must be objects');
    return { kind: 'pipeline', stages: u };
  }
  if (!isPlainObject(u)) throw new DevDbError(ErrorCode.FailedToParse, 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  const dollar = keys.filter((k) => k.startsWith('$'));
  if (dollar.length === 0) return { kind: 'replace', doc: u };
  if (dollar.length !== keys.length) {
    throw new DevDbError(ErrorCode.DollarPrefixedFieldName, `The dollar ($) prefixed field '${keys.find((k) => !k.startsWith('$'))}' is not allowed in an update operator document`);
  }
  for (const k of dollar) {
    if (!OPERATORS.has(k)) {
      throw new DevDbError(ErrorCode.FailedToParse, `Unknown modifier: ${k}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    if (!isPlainObject(u[k])) throw new DevDbError(ErrorCode.FailedToParse, `Modifiers operate on fields but we found type ${typeof u[k]} instead.`);
  }
  checkConflicts(u);
  return { kind: 'operators', ops: u };
}

function checkConflicts(ops: Doc): void {
  const seen: string[] = [];
  for (const [op, fields] of Object.entries(ops)) {
    const paths = Object.keys(fields as Doc);
    if (op === '$rename') paths.push(...Object.values(fields as Doc).map(String));
    for (const p of paths) {
      const norm = p.replace(/\.\$(\[[^\]]*\])?/g, '');
      for (const q of seen) {
        if (q === norm || q.startsWith(norm + '.') || norm.startsWith(q + '.')) {
          throw new DevDbError(ErrorCode.ConflictingUpdateOperators, `Updating the path '${p}' would create a conflict at '${q}'`);
        }
      }
      seen.push(norm);
    }
  }
}

/** Applies an update to a copy of `doc` and returns the new document (the input is never mutated). */
export function applyUpdate(doc: Doc, spec: UpdateSpec, ctx: PositionalContext, isInsert: boolean, now: () => Date, variables?: Doc): Doc {
  let out: Doc;
  if (spec.kind === 'replace') {
    out = { ...(doc._id !== undefined ? { _id: doc._id } : {}), ...deepClone(spec.doc) };
  } else if (spec.kind === 'pipeline') {
    out = applyPipeline(doc, spec.stages, now, variables);
  } else {
    out = deepClone(doc);
    applyOperators(out, spec.ops, ctx, isInsert, now);
  }
  if (doc._id !== undefined && out._id !== undefined && keyOf(out._id) !== keyOf(doc._id)) {
    throw new DevDbError(ErrorCode.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  if (doc._id !== undefined && out._id === undefined) out = { _id: doc._id, ...out };
  return idFirst(out);
}

export function idFirst(doc: Doc): Doc {
  for (const k in doc) {
    if (k === '_id') return doc;
    break;
  }
  if (!('_id' in doc)) return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

function applyPipeline(doc: Doc, stages: Doc[], now: () => Date, variables?: Doc): Doc {
  const allowed = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);
  for (const s of stages) {
    const name = Object.keys(s)[0];
    if (!allowed.has(name)) throw new DevDbError(ErrorCode.InvalidOptions, `${name} is not allowed to be used within an update`);
  }
  const input = hasWrappedNumbers(doc) ? (toPlain(doc) as Doc) : deepClone(doc);
  try {
    const [res] = new Aggregator(stages, { idKey: '_id', variables: { ...variables, NOW: now() } }).run([input]);
    return (res ?? {}) as Doc;
  } catch (err) {
    throw new DevDbError(ErrorCode.BadValue, err instanceof Error ? err.message : String(err));
  }
}

/** Orders paths as MongoDB 5+ applies them: segment by segment, numeric segments numerically. */
function comparePaths(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = /^\d+$/.test(pa[i]);
    const nb = /^\d+$/.test(pb[i]);
    if (na && nb) return Number(pa[i]) - Number(pb[i]);
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

function applyOperators(doc: Doc, ops: Doc, ctx: PositionalContext, isInsert: boolean, now: () => Date): void {
  const steps: Array<[op: string, path: string, arg: unknown]> = [];
  for (const [op, fields] of Object.entries(ops)) {
    if (op === '$setOnInsert' && !isInsert) continue;
    for (const [path, arg] of Object.entries(fields as Doc)) steps.push([op, path, arg]);
  }
  // New fields appear in lexicographic order of their paths, whatever order the update lists them in.
  steps.sort((x, y) => comparePaths(x[1], y[1]));
  for (const [op, path, arg] of steps) {
    if (op === '$rename') { rename(doc, path, arg); continue; }
    for (const parts of expandPath(doc, path, ctx)) applyOne(doc, op, parts, arg, now);
  }
}

function rename(doc: Doc, from: string, to: unknown): void {
  if (typeof to !== 'string') throw new DevDbError(ErrorCode.BadValue, `The 'to' field for $rename must be a string: ${from}: ${String(to)}`);
  if (from === to) throw new DevDbError(ErrorCode.BadValue, `The source and target field for $rename must differ: ${from}: "${to}"`);
  const parts = from.split('.');
  const v = getPath(doc, parts);
  if (v === undefined) return;
  unsetPath(doc, parts);
  setPath(doc, to.split('.'), v);
}

function requireArray(current: unknown, path: string, doc: Doc): unknown[] {
  if (current === undefined) return [];
  if (!Array.isArray(current)) {
    throw new DevDbError(ErrorCode.BadValue, `The field '${path}' must be an array but is of type ${bsonType(current) ?? typeof current} in document {_id: ${String(doc._id)}}`);
  }
  return current;
}

function pullMatcher(cond: unknown): (el: unknown) => boolean {
  if (isPlainObject(cond)) {
    const keys = Object.keys(cond);
    if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) {
      const m = new Matcher({ v: cond });
      return (el) => m.test({ v: el });
    }
    const m = new Matcher(cond);
    return (el) => isPlainObject(el) && m.test(el);
  }
  const k = keyOf(cond);
  return (el) => keyOf(el) === k;
}

function applyOne(doc: Doc, op: string, parts: string[], arg: unknown, now: () => Date): void {
  const path = parts.join('.');
  const current = getPath(doc, parts);
  switch (op) {
    case '$set':
    case '$setOnInsert':
      setPath(doc, parts, deepClone(arg));
      return;
    case '$unset':
      unsetPath(doc, parts);
      return;
    case '$inc':
      setPath(doc, parts, current === undefined ? arith(zeroLike(arg), arg, 'add', op, path) : arith(current, arg, 'add', op, path));
      return;
    case '$mul':
      setPath(doc, parts, arith(current === undefined ? zeroLike(arg) : current, arg, 'mul', op, path));
      return;
    case '$min':
    case '$max': {
      const c = current === undefined ? 0 : compareValues(arg, current);
      if (current === undefined || (op === '$min' ? c < 0 : c > 0)) setPath(doc, parts, deepClone(arg));
      return;
    }
    case '$currentDate': {
      const wantTs = isPlainObject(arg) && arg.$type === 'timestamp';
      const d = now();
      setPath(doc, parts, wantTs ? new Timestamp({ t: Math.floor(d.getTime() / 1000), i: 1 }) : d);
      return;
    }
    case '$push': {
      const arr = [...requireArray(current, path, doc)];
      const mods = isPlainObject(arg) && '$each' in arg ? arg : undefined;
      const each = mods ? mods.$each : [arg];
      if (!Array.isArray(each)) throw new DevDbError(ErrorCode.BadValue, `The argument to $each in $push must be an array but it was of type: ${typeof each}`);
      const position = mods?.$position !== undefined ? toNumber(mods.$position) : arr.length;
      const at = position < 0 ? Math.max(0, arr.length + position) : Math.min(position, arr.length);
      arr.splice(at, 0, ...each.map(deepClone));
      let result = arr;
      if (mods?.$sort !== undefined) {
        if (isPlainObject(mods.$sort)) result = sortDocs(result as Doc[], parseSort(mods.$sort));
        else {
          const dir = toNumber(mods.$sort) < 0 ? -1 : 1;
          result = [...result].sort((x, y) => compareValues(x, y) * dir);
        }
      }
      if (mods?.$slice !== undefined) {
        const n = toNumber(mods.$slice);
        result = n >= 0 ? result.slice(0, n) : result.slice(Math.max(0, result.length + n));
      }
      setPath(doc, parts, result);
      return;
    }
    case '$addToSet': {
      const arr = [...requireArray(current, path, doc)];
      const each = isPlainObject(arg) && '$each' in arg ? arg.$each : [arg];
      if (!Array.isArray(each)) throw new DevDbError(ErrorCode.TypeMismatch, 'The argument to $each in $addToSet must be an array');
      const keys = new Set(arr.map(keyOf));
      for (const v of each) {
        const k = keyOf(v);
        if (!keys.has(k)) { keys.add(k); arr.push(deepClone(v)); }
      }
      setPath(doc, parts, arr);
      return;
    }
    case '$pop': {
      if (current === undefined) return;
      const arr = [...requireArray(current, path, doc)];
      if (toNumber(arg) < 0) arr.shift(); else arr.pop();
      setPath(doc, parts, arr);
      return;
    }
    case '$pull': {
      if (current === undefined) return;
      const test = pullMatcher(arg);
      setPath(doc, parts, requireArray(current, path, doc).filter((el) => !test(el)));
      return;
    }
    case '$pullAll': {
      if (current === undefined) return;
      if (!Array.isArray(arg)) throw new DevDbError(ErrorCode.BadValue, '$pullAll requires an array argument');
      const drop = new Set(arg.map(keyOf));
      setPath(doc, parts, requireArray(current, path, doc).filter((el) => !drop.has(keyOf(el))));
      return;
    }
    case '$bit': {
      if (!isPlainObject(arg)) throw new DevDbError(ErrorCode.BadValue, '$bit requires an object');
      let v = BigInt(Math.trunc(current === undefined ? 0 : toNumber(current)));
      for (const [bop, operand] of Object.entries(arg)) {
        const o = BigInt(Math.trunc(toNumber(operand)));
        v = bop === 'and' ? v & o : bop === 'or' ? v | o : v ^ o;
      }
      setPath(doc, parts, Number(v));
      return;
    }
    default:
      throw new DevDbError(ErrorCode.FailedToParse, `Unknown modifier: ${op}`);
  }
}
