import { DevDbError, ErrorCode } from '../errors.js';
import { parseSort, sortComparator } from '../query/compare.js';
import { Matcher } from '../query/match.js';
import { parseArrayFilters, type PositionalContext } from '../query/paths.js';
import { buildUpsertDoc } from '../query/upsert.js';
import { applyUpdate, parseUpdate } from '../query/update.js';
import { isPlainObject, keyOf, type Doc } from '../query/values.js';
import type { Rec } from '../storage/record.js';
import type { CommandContext } from './context.js';

export interface UpdateRequest {
  filter: Doc;
  update: unknown;
  multi: boolean;
  upsert: boolean;
  arrayFilters?: unknown;
  sort?: unknown;
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
export function targetRecords(ctx: CommandContext, collName: string, filter: Doc, multi: boolean, sort: unknown): Rec[] {
  const coll = ctx.deployment.collection(ctx.db, collName);
  if (!coll) return [];
  const matcher = new Matcher(filter);
  const spec = parseSort(sort);
  const recs = coll.select(filter, matcher, multi || spec.length > 0 ? 0 : 1);
  if (spec.length > 0 && recs.length > 1) {
    const cmp = sortComparator(spec);
    recs.sort((a, b) => cmp(a.doc, b.doc));
    return multi ? recs : recs.slice(0, 1);
  }
  return recs;
}

/** One update statement: each document's change (and its change event) is applied without yielding. */
export function runUpdate(ctx: CommandContext, collName: string, req: UpdateRequest): UpdateOutcome {
  const filter = asFilter(req.filter);
  const spec = parseUpdate(req.update);
  if (req.multi && spec.kind === 'replace') {
    throw new DevDbError(ErrorCode.FailedToParse, 'multi update is not supported for replacement-style update');
  }
  const pos: PositionalContext = { filter, arrayFilters: parseArrayFilters(req.arrayFilters) };
  const now = (): Date => new Date(ctx.deployment.now());
  const recs = targetRecords(ctx, collName, filter, req.multi, req.sort);
  if (recs.length === 0) {
    if (!req.upsert) return { matched: 0, modified: 0 };
    const doc = buildUpsertDoc(filter, spec, pos, now);
    const rec = ctx.deployment.ensureCollection(ctx.db, collName).insert(doc);
    return { matched: 0, modified: 0, upsertedId: rec.doc._id, after: rec.doc };
  }
  const coll = ctx.deployment.collection(ctx.db, collName)!;
  let modified = 0;
  let before: Doc | undefined;
  let after: Doc | undefined;
  for (const rec of recs) {
    const old = rec.doc;
    const next = applyUpdate(old, spec, pos, false, now);
    before = old;
    after = next;
    if (keyOf(next) === keyOf(old)) continue;
    coll.update(rec, next, spec.kind === 'replace' ? 'replace' : 'update');
    after = rec.doc;
    modified++;
  }
  return { matched: recs.length, modified, before, after };
}

export function runDelete(ctx: CommandContext, collName: string, filter: unknown, multi: boolean, sort?: unknown): Doc[] {
  const recs = targetRecords(ctx, collName, asFilter(filter), multi, sort);
  const coll = ctx.deployment.collection(ctx.db, collName);
  for (const rec of recs) coll!.delete(rec);
  return recs.map((r) => r.doc);
}
