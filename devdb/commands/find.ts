import { Long } from 'bson';
import { DevDbError, ErrorCode } from '../errors.js';
import { parseSort, sortDocs, valuesAtPath } from '../query/compare.js';
import { collatedKeyOf, parseCollation } from '../query/collation.js';
import { evaluateLet } from '../query/letVariables.js';
import { Matcher, type MatchOptions } from '../query/match.js';
import { project } from '../query/projection.js';
import { toNumber, type Doc } from '../query/values.js';
import { ArrayCursor, type ServerCursor } from '../storage/cursors.js';
import { TailableCursor } from '../storage/tailable.js';
import { checkHint, collectionName, optionalDoc, optionalNumber, type CommandContext, type CommandHandler } from './context.js';

/** Replies with a first batch and registers the cursor if more remains. */
export async function openCursor(ctx: CommandContext, cursor: ServerCursor, batchSize: number, singleBatch: boolean, extra: Doc = {}): Promise<Doc> {
  const first = await cursor.nextBatch(batchSize, { first: true, signal: ctx.signal });
  let id = Long.ZERO;
  if (!first.exhausted && !singleBatch) id = ctx.deployment.cursors.register(cursor);
  const cursorDoc: Doc = { firstBatch: first.docs, id, ns: cursor.ns };
  if (first.postBatchResumeToken) cursorDoc.postBatchResumeToken = first.postBatchResumeToken;
  return { cursor: cursorDoc, ...extra, ok: 1 };
}

export interface FindPlan {
  docs: Doc[];
  examined: number;
  plan: { stage: string; indexName?: string; keyPattern?: Doc };
}

/** The collation and `let` variables of a read command (undefined when it has neither: the fast path). */
export function readMatchOptions(ctx: CommandContext, cmd: Doc): MatchOptions | undefined {
  const collation = parseCollation(cmd.collation);
  const variables = evaluateLet(cmd.let, new Date(ctx.deployment.now()));
  return collation || variables ? { collation, variables } : undefined;
}

/** Runs a find's filter/sort/skip/limit/projection and returns the full result. */
export function runFind(ctx: CommandContext, collName: string, cmd: Doc): FindPlan {
  const coll = ctx.deployment.collection(ctx.db, collName);
  const filter = optionalDoc(cmd, 'filter') ?? {};
  const match = readMatchOptions(ctx, cmd);
  const collation = match?.collation;
  const matcher = new Matcher(filter, match);
  checkHint(coll, cmd.hint);
  if (!coll) return { docs: [], examined: 0, plan: { stage: 'EOF' } };
  const sortSpec = parseSort(cmd.sort);
  const natural = sortSpec.find(([p]) => p === '$natural');
  const spec = sortSpec.filter(([p]) => p !== '$natural');
  const skip = Math.max(0, optionalNumber(cmd, 'skip', 0));
  const limit = Math.abs(optionalNumber(cmd, 'limit', 0));
  let { plan, candidates } = coll.plan(filter, collation);
  let docs: Doc[] = [];
  let examined = 0;
  let sorted = false;
  // A sort on one indexed field with a limit walks that index and stops early, as MongoDB does.
  if (spec.length === 1 && !natural && !collation && limit > 0 && (plan.stage === 'COLLSCAN' || plan.rangeField === spec[0][0])) {
    const ordered = coll.sortedBy(spec[0][0], spec[0][1], filter);
    if (ordered) {
      plan = ordered.plan;
      candidates = () => ordered.records;
      sorted = true;
    }
  }
  const stopAt = (spec.length === 0 || sorted) && !natural && limit > 0 ? skip + limit : 0;
  for (const rec of candidates()) {
    examined++;
    if (matcher.test(rec.doc, rec.wrapped)) {
      docs.push(rec.doc);
      if (stopAt > 0 && docs.length >= stopAt) break;
    }
  }
  if (natural && natural[1] < 0) docs.reverse();
  if (!sorted) docs = sortDocs(docs, spec, limit > 0 ? skip + limit : 0, collation?.compare);
  if (skip > 0 || limit > 0) docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  return { docs: project(docs, optionalDoc(cmd, 'projection'), filter), examined, plan };
}

/** find options that change what is returned and that devdb does not implement. */
const REFUSED_FIND_OPTIONS: Record<string, string> = {
  min: 'index bounds (min)',
  max: 'index bounds (max)',
  returnKey: 'returnKey',
  showRecordId: 'showRecordId',
};

const find: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, 'find');
  for (const [option, feature] of Object.entries(REFUSED_FIND_OPTIONS)) {
    if (cmd[option] !== undefined && cmd[option] !== false) throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support ${feature} on find`);
  }
  const ns = `${ctx.db}.${name}`;
  const batchSize = optionalNumber(cmd, 'batchSize', 101);
  const limit = optionalNumber(cmd, 'limit', 0);
  const singleBatch = cmd.singleBatch === true || limit < 0;
  if (cmd.tailable === true) {
    const coll = ctx.deployment.collection(ctx.db, name);
    if (!coll || !coll.capped) throw new DevDbError(ErrorCode.BadValue, `error processing query: ns=${ns} tailable cursor requested on non capped collection`);
    const matcher = new Matcher(optionalDoc(cmd, 'filter') ?? {}, readMatchOptions(ctx, cmd));
    const live = (): boolean => ctx.deployment.collection(ctx.db, name) === coll;
    return openCursor(ctx, new TailableCursor(ns, coll, matcher, cmd.awaitData === true, live), batchSize, false);
  }
  const { docs } = runFind(ctx, name, cmd);
  const firstBatchSize = limit !== 0 ? Math.min(batchSize || Infinity, Math.abs(limit)) : batchSize;
  return openCursor(ctx, new ArrayCursor(ns, docs), firstBatchSize === Infinity ? 0 : firstBatchSize, singleBatch);
};

const getMore: CommandHandler = async (cmd, ctx) => {
  const raw = cmd.getMore;
  const id = raw instanceof Long ? raw : Long.fromNumber(toNumber(raw));
  const entry = ctx.deployment.cursors.get(id);
  if (!entry) throw new DevDbError(ErrorCode.CursorNotFound, `cursor id ${id.toString()} not found`);
  const ns = `${ctx.db}.${String(cmd.collection)}`;
  if (entry.cursor.ns !== ns && !entry.cursor.ns.endsWith('.$cmd.aggregate')) {
    throw new DevDbError(ErrorCode.Unauthorized, `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${entry.cursor.ns}`);
  }
  const batchSize = optionalNumber(cmd, 'batchSize', 0);
  const maxTimeMS = cmd.maxTimeMS === undefined ? undefined : toNumber(cmd.maxTimeMS);
  const signal = AbortSignal.any([ctx.signal, entry.abort.signal]);
  const batch = await entry.cursor.nextBatch(batchSize, { maxTimeMS, signal });
  let outId = id;
  if (batch.exhausted) {
    ctx.deployment.cursors.kill(id);
    outId = Long.ZERO;
  }
  const cursor: Doc = { nextBatch: batch.docs, id: outId, ns: entry.cursor.ns };
  if (batch.postBatchResumeToken) cursor.postBatchResumeToken = batch.postBatchResumeToken;
  return { cursor, ok: 1 };
};

const killCursors: CommandHandler = (cmd, ctx) => {
  const ids = Array.isArray(cmd.cursors) ? cmd.cursors : [];
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const raw of ids) {
    const id = raw instanceof Long ? raw : Long.fromNumber(toNumber(raw));
    (ctx.deployment.cursors.kill(id) ? killed : notFound).push(id);
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'count');
  const coll = ctx.deployment.collection(ctx.db, name);
  if (!coll) return { n: 0, ok: 1 };
  const query = optionalDoc(cmd, 'query') ?? {};
  const skip = optionalNumber(cmd, 'skip', 0);
  const limit = Math.abs(optionalNumber(cmd, 'limit', 0));
  const match = readMatchOptions(ctx, cmd);
  checkHint(coll, cmd.hint);
  let n = Object.keys(query).length === 0 ? coll.size : coll.select(query, new Matcher(query, match), 0, match?.collation).length;
  n = Math.max(0, n - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n, ok: 1 };
};

const distinct: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'distinct');
  if (typeof cmd.key !== 'string') throw new DevDbError(ErrorCode.TypeMismatch, "BSON field 'distinct.key' is missing or is not a string");
  const coll = ctx.deployment.collection(ctx.db, name);
  if (!coll) return { values: [], ok: 1 };
  const query = optionalDoc(cmd, 'query') ?? {};
  const match = readMatchOptions(ctx, cmd);
  const collation = match?.collation;
  const seen = new Map<string, unknown>();
  for (const rec of coll.select(query, new Matcher(query, match), 0, collation)) {
    for (const v of valuesAtPath(rec.doc, cmd.key)) {
      for (const x of Array.isArray(v) ? v : [v]) {
        if (x === undefined) continue;
        const k = collatedKeyOf(x, collation);
        if (!seen.has(k)) seen.set(k, x);
      }
    }
  }
  return { values: [...seen.values()], ok: 1 };
};

export const findCommands: Record<string, CommandHandler> = { find, getMore, killCursors, count, distinct };
