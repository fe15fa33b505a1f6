import { DevDbError, ErrorCode } from '../errors.js';
import { evalExpr } from 'mingo/core';
import { refuseJavaScript, refuseUncollatable, runPipeline } from '../query/aggregate.js';
import { DEVDB_CONTEXT } from '../query/mingoContext.js';
import { applyUpdate, parseUpdate } from '../query/update.js';
import { parseCollation } from '../query/collation.js';
import { evaluateLet } from '../query/letVariables.js';
import { Matcher, type MatchOptions } from '../query/match.js';
import { isPlainObject, keyOf, toNumber, type Doc } from '../query/values.js';
import { ArrayCursor } from '../storage/cursors.js';
import type { WriteOptions } from '../storage/collection.js';
import type { Rec } from '../storage/record.js';
import { writeOptions } from './crud.js';
import { openChangeStream } from './changeStreams.js';
import { checkHint, type CommandContext, type CommandHandler } from './context.js';
import { openCursor } from './find.js';
import { listLocalSessions } from './sessions.js';

function stageName(stage: Doc): string {
  const keys = Object.keys(stage);
  if (keys.length !== 1) throw new DevDbError(ErrorCode.Location40324, 'A pipeline stage specification object must contain exactly one field.');
  return keys[0];
}

/** Input of the pipeline: an indexed leading $match is answered from the collection's indexes. */
function sourceRecs(ctx: CommandContext, collName: string | undefined, pipeline: Doc[], match: MatchOptions | undefined): { recs: Rec[]; rest: Doc[] } {
  if (collName === undefined) return { recs: [], rest: pipeline };
  const coll = ctx.deployment.collection(ctx.db, collName);
  if (!coll) return { recs: [], rest: pipeline };
  const first = pipeline[0];
  if (first && isPlainObject(first.$match) && !('$expr' in first.$match)) {
    const filter = first.$match;
    return { recs: coll.select(filter, new Matcher(filter, match), 0, match?.collation), rest: pipeline.slice(1) };
  }
  return { recs: [...coll.records.values()], rest: pipeline };
}

/** The target of `$out` / `$merge`: a collection name in this database, or `{ db, coll }`. */
function targetOf(ctx: CommandContext, spec: unknown, stage: string): { db: string; coll: string } {
  if (typeof spec === 'string') return { db: ctx.db, coll: spec };
  if (isPlainObject(spec) && typeof spec.coll === 'string') return { db: typeof spec.db === 'string' ? spec.db : ctx.db, coll: spec.coll };
  throw new DevDbError(ErrorCode.FailedToParse, `${stage} must name a collection, or be { db, coll }`);
}

/** The variables of a `$merge` `whenMatched` pipeline: `let` evaluated on the result document (default `{ new: '$$ROOT' }`). */
function mergeVariables(doc: Doc, letSpec: unknown, variables: Doc | undefined): Doc {
  if (letSpec === undefined) return { ...variables, new: doc };
  if (!isPlainObject(letSpec)) throw new DevDbError(ErrorCode.TypeMismatch, "$merge 'let' must be an object");
  const out: Doc = { ...variables };
  for (const [name, expr] of Object.entries(letSpec)) out[name] = evalExpr(doc, expr, { idKey: '_id', context: DEVDB_CONTEXT, variables } as never);
  return out;
}

function writeOut(ctx: CommandContext, stage: Doc, results: Doc[], write: WriteOptions | undefined, variables: Doc | undefined): void {
  if (stage.$out !== undefined) {
    const target = targetOf(ctx, stage.$out, '$out');
    if (isPlainObject(stage.$out) && stage.$out.timeseries !== undefined) throw new DevDbError(ErrorCode.InvalidOptions, 'devdb does not support time series collections ($out timeseries)');
    const existing = ctx.deployment.collection(target.db, target.coll);
    const specs = existing ? existing.indexSpecs().slice(1) : [];
    const options = existing ? { ...existing.options } : {};
    if (existing) ctx.deployment.dropCollection(target.db, target.coll);
    const coll = ctx.deployment.createCollection(target.db, target.coll, options);
    for (const spec of specs) coll.addIndex(spec);
    for (const doc of results) coll.insert(doc, write);
    return;
  }
  const spec = stage.$merge;
  const opts: Doc = typeof spec === 'string' ? { into: spec } : (spec as Doc);
  const target = targetOf(ctx, opts.into, '$merge');
  const into = target.coll;
  const on = opts.on === undefined ? ['_id'] : Array.isArray(opts.on) ? opts.on.map(String) : [String(opts.on)];
  const whenMatched = opts.whenMatched ?? 'merge';
  const whenNotMatched = opts.whenNotMatched ?? 'insert';
  if (!Array.isArray(whenMatched) && !['merge', 'replace', 'keepExisting', 'fail'].includes(String(whenMatched))) {
    throw new DevDbError(ErrorCode.BadValue, `Enumeration value '${String(whenMatched)}' for field '$merge.whenMatched' is not a valid value.`);
  }
  if (!['insert', 'discard', 'fail'].includes(String(whenNotMatched))) {
    throw new DevDbError(ErrorCode.BadValue, `Enumeration value '${String(whenNotMatched)}' for field '$merge.whenNotMatched' is not a valid value.`);
  }
  const coll = ctx.deployment.ensureCollection(target.db, into);
  const onKey = keyOf([...on].sort());
  if (onKey !== keyOf(['_id']) && !coll.indexes.some((i) => i.unique && !i.spec.partialFilterExpression && !i.collation && keyOf(Object.keys(i.spec.key).sort()) === onKey)) {
    throw new DevDbError(ErrorCode.Location51183, 'Cannot find index to verify that join fields will be unique');
  }
  for (const doc of results) {
    const filter: Doc = {};
    for (const f of on) {
      const v = doc[f];
      if (f !== '_id' && (v === undefined || v === null || Array.isArray(v))) {
        throw new DevDbError(ErrorCode.Location51132, `$merge write error: 'on' field '${f}' cannot be missing, null, undefined or an array`);
      }
      filter[f] = v;
    }
    const [match] = coll.select(filter, new Matcher(filter), 1);
    if (!match) {
      if (whenNotMatched === 'insert') coll.insert(doc, write);
      else if (whenNotMatched === 'fail') throw new DevDbError(ErrorCode.MergeStageNoMatchingDocument, '$merge could not find a matching document in the target collection for at least one document in the source collection');
      continue;
    }
    if (whenMatched === 'keepExisting') continue;
    if (whenMatched === 'fail') {
      // As mongod: the insert of the matching document fails on the unique index of the `on` fields.
      const keyPattern = Object.fromEntries(on.map((f) => [f, 1]));
      const keyValue = Object.fromEntries(on.map((f) => [f, doc[f] ?? null]));
      const index = on.length === 1 && on[0] === '_id' ? '_id_' : coll.indexes.find((i) => keyOf(Object.keys(i.spec.key)) === keyOf(on))?.name ?? on.map((f) => `${f}_1`).join('_');
      const dup = Object.entries(keyValue).map(([f, v]) => `${f}: ${JSON.stringify(v)}`).join(', ');
      throw new DevDbError(ErrorCode.DuplicateKey, `E11000 duplicate key error collection: ${ctx.db}.${into} index: ${index} dup key: { ${dup} }`, { keyPattern, keyValue });
    }
    const next = Array.isArray(whenMatched)
      ? applyUpdate(match.doc, parseUpdate(whenMatched), { filter: {}, arrayFilters: new Map() }, false, () => new Date(ctx.deployment.now()), mergeVariables(doc, opts.let, variables))
      : whenMatched === 'replace' ? { ...doc, _id: match.doc._id } : { ...match.doc, ...doc, _id: match.doc._id };
    if (keyOf(next) !== keyOf(match.doc)) coll.update(match, next, whenMatched === 'replace' ? 'replace' : 'update', write);
  }
}

const aggregate: CommandHandler = async (cmd, ctx) => {
  const target = cmd.aggregate;
  const collName = typeof target === 'string' ? target : undefined;
  if (collName === undefined && toNumber(target) !== 1) throw new DevDbError(ErrorCode.InvalidNamespace, "'aggregate' must be a collection name or 1");
  if (!Array.isArray(cmd.pipeline)) throw new DevDbError(ErrorCode.TypeMismatch, "'pipeline' option must be specified as an array");
  const pipeline = cmd.pipeline as Doc[];
  pipeline.forEach((s) => { if (!isPlainObject(s)) throw new DevDbError(ErrorCode.TypeMismatch, 'Each element of the \'pipeline\' array must be an object'); stageName(s); });
  const cursorOpts = isPlainObject(cmd.cursor) ? cmd.cursor : {};
  const batchSize = cursorOpts.batchSize === undefined ? 101 : toNumber(cursorOpts.batchSize);
  const collation = parseCollation(cmd.collation);
  if (collName !== undefined) checkHint(ctx.deployment.collection(ctx.db, collName), cmd.hint);
  if (pipeline[0] && '$changeStream' in pipeline[0]) {
    if (collation) throw new DevDbError(ErrorCode.InvalidOptions, 'devdb does not support collation on change streams');
    return openChangeStream(ctx, collName, pipeline, batchSize);
  }

  const ns = `${ctx.db}.${collName ?? '$cmd.aggregate'}`;
  const last = pipeline[pipeline.length - 1];
  const terminal = last && ('$out' in last || '$merge' in last) ? last : undefined;
  if (terminal) refuseLinearizable(cmd, stageName(terminal));
  if (collation) refuseUncollatable(pipeline);
  refuseJavaScript(pipeline);
  const body = terminal ? pipeline.slice(0, -1) : pipeline;
  const now = new Date(ctx.deployment.now());
  const variables = evaluateLet(cmd.let, now);
  const run = (stages: Doc[], input: Array<{ doc: Doc; wrapped: boolean }>): Doc[] =>
    runPipeline(stages, { docs: input, resolve: resolver(ctx), now, variables, collation });
  let docs: Doc[];
  const first = body[0];
  if (first && '$documents' in first) {
    docs = run(body.slice(1), (first.$documents as Doc[]).map((doc) => ({ doc, wrapped: true })));
  } else if (first && ('$collStats' in first || '$indexStats' in first)) {
    docs = run(body.slice(1), statsStage(ctx, collName ?? '', first).map((doc) => ({ doc, wrapped: true })));
  } else if (first && '$listLocalSessions' in first) {
    if (collName !== undefined) throw new DevDbError(ErrorCode.InvalidNamespace, '$listLocalSessions must be run against the database with {aggregate: 1}');
    docs = run(body.slice(1), listLocalSessions(ctx, first.$listLocalSessions).map((doc) => ({ doc, wrapped: false })));
  } else {
    const match = collation || variables ? { collation, variables } : undefined;
    const { recs, rest } = sourceRecs(ctx, collName, body, match);
    docs = rest.length === 0 ? recs.map((r) => r.doc) : run(rest, recs);
  }
  if (cmd.explain === true) {
    return { explainVersion: '1', stages: pipeline.map((s) => ({ [stageName(s)]: s[stageName(s)] })), ok: 1 };
  }
  if (terminal) {
    writeOut(ctx, terminal, docs, writeOptions(cmd), variables);
    docs = [];
  }
  return openCursor(ctx, new ArrayCursor(ns, docs), batchSize, false);
};

/** MongoDB refuses `$out` and `$merge` under a linearizable read concern (they write). */
function refuseLinearizable(cmd: Doc, stage: string): void {
  const level = isPlainObject(cmd.readConcern) ? cmd.readConcern.level : undefined;
  if (level === 'linearizable') throw new DevDbError(ErrorCode.InvalidOptions, `${stage} cannot be used with a 'linearizable' read concern level`);
}

function resolver(ctx: CommandContext): (name: string) => Rec[] {
  return (name) => [...(ctx.deployment.collection(ctx.db, name)?.records.values() ?? [])];
}

function statsStage(ctx: CommandContext, collName: string, stage: Doc): Doc[] {
  const coll = ctx.deployment.collection(ctx.db, collName);
  if ('$indexStats' in stage) {
    return (coll?.indexSpecs() ?? []).map((s) => ({ name: s.name, key: s.key, host: 'devdb', accesses: { ops: 0, since: new Date() }, spec: s }));
  }
  const count = coll?.size ?? 0;
  return [{ ns: `${ctx.db}.${collName}`, host: 'devdb', localTime: new Date(), storageStats: { count, size: 0, nindexes: coll ? coll.indexes.length + 1 : 0 }, count }];
}

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
