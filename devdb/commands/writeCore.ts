import { DevDbError, ErrorCode } from '../errors.js';
import { parseSort, sortComparator } from '../query/compare.js';
import { Matcher, type MatchOptions } from '../query/match.js';
import { parseArrayFilters, type PositionalContext } from '../query/paths.js';
import { buildUpsertDoc } from '../query/upsert.js';
import { applyUpdate, parseUpdate } from '../query/update.js';
import { isPlainObject, keyOf, type Doc } from '../query/values.js';
import type { WriteOptions } from '../storage/collection.js';
import type { Rec } from '../storage/record.js';
import type { CommandContext } from './context.js';

export interface UpdateRequest {
  filter: Doc;
  update: unknown;
  multi: boolean;
  upsert: boolean;
  arrayFilters?: unknown;
  sort?: unknown;
  /** The statement's collation and the command's `let` variables. */
  match?: MatchOptions;
  write?: WriteOptions;
}

export interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The single document's versions (findAndModify). */
  before?: Doc;
  after?: Doc;
}

function asFilter(q: unknown): Doc {
  if (q === undefined || q === null) return {};
  if (!isPlainObject(q)) throw new DevDbError(ErrorCode.TypeMismatch, 'query filter must be an object');
  return q;
}

/** Finds the records one write statement targets (first by `sort` when given). */
export function targetRecords(ctx: CommandContext, collName: string, filter: Doc, multi: boolean, sort: unknown, match?: MatchOptions): Rec[] {
  const coll = ctx.deployment.collection(ctx.db, collName);
  if (!coll) return [];
  const matcher = new Matcher(filter, match);
  const spec = parseSort(sort);
  const recs = coll.select(filter, matcher, multi || spec.length > 0 ? 0 : 1, match?.collation);
  if (spec.length > 0 && recs.length > 1) {
    const cmp = sortComparator(spec, match?.collation?.compare);
    recs.sort((a, b) => cmp(a.doc, b.doc));
    return multi ? recs : recs.slice(0, 1);
  }
  return recs;
}

/** Update operators that compare values; devdb applies them without a collation, so it refuses the combination. */
const VALUE_COMPARING_OPERATORS = ['$addToSet', '$pull', '$pullAll', '$min', '$max', '$push'];

function refuseCollatedOperators(ops: Doc): void {
  for (const op of VALUE_COMPARING_OPERATORS) {
    if (ops[op] === undefined) continue;
    if (op === '$push' && !Object.values(ops[op] as Doc).some((arg) => isPlainObject(arg) && arg.$sort !== undefined)) continue;
    throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support collation with the update operator ${op}${op === '$push' ? ' and $sort' : ''}`);
  }
}

/** One update statement: each document's change (and its change event) is applied without yielding. */
export function runUpdate(ctx: CommandContext, collName: string, req: UpdateRequest): UpdateOutcome {
  const filter = asFilter(req.filter);
  const spec = parseUpdate(req.update);
  if (req.multi && spec.kind === 'replace') {
    throw new DevDbError(ErrorCode.FailedToParse, 'multi update is not supported for replacement-style update');
  }
  if (req.match?.collation && spec.kind === 'operators') refuseCollatedOperators(spec.ops);
  const pos: PositionalContext = { filter, arrayFilters: parseArrayFilters(req.arrayFilters, req.match) };
  const now = (): Date => new Date(ctx.deployment.now());
  const recs = targetRecords(ctx, collName, filter, req.multi, req.sort, req.match);
  const variables = req.match?.variables;
  if (recs.length === 0) {
    if (!req.upsert) return { matched: 0, modified: 0 };
    const doc = buildUpsertDoc(filter, spec, pos, now, variables);
    const rec = ctx.deployment.ensureCollection(ctx.db, collName).insert(doc, req.write);
    return { matched: 0, modified: 0, upsertedId: rec.doc._id, after: rec.doc };
  }
  const coll = ctx.deployment.collection(ctx.db, collName)!;
  let modified = 0;
  let before: Doc | undefined;
  let after: Doc | undefined;
  for (const rec of recs) {
    const old = rec.doc;
    const next = applyUpdate(old, spec, pos, false, now, variables);
    before = old;
    after = next;
    if (keyOf(next) === keyOf(old)) continue;
    coll.update(rec, next, spec.kind === 'replace' ? 'replace' : 'update', req.write);
    after = rec.doc;
    modified++;
  }
  return { matched: recs.length, modified, before, after };
}

export function runDelete(ctx: CommandContext, collName: string, filter: unknown, multi: boolean, sort?: unknown, match?: MatchOptions): Doc[] {
  const recs = targetRecords(ctx, collName, asFilter(filter), multi, sort, match);
  const coll = ctx.deployment.collection(ctx.db, collName);
  for (const rec of recs) coll!.delete(rec);
  return recs.map((r) => r.doc);
}
