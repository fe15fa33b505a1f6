import { DevDbError, ErrorCode } from '../errors.js';
import { runPipeline } from '../query/aggregate.js';
import { Matcher } from '../query/match.js';
import { isPlainObject, keyOf, toNumber, type Doc } from '../query/values.js';
import { ArrayCursor } from '../storage/cursors.js';
import type { Rec } from '../storage/record.js';
import { openChangeStream } from './changeStreams.js';
import type { CommandContext, CommandHandler } from './context.js';
import { openCursor } from './find.js';

function stageName(stage: Doc): string {
  const keys = Object.keys(stage);
  if (keys.length !== 1) throw new DevDbError(ErrorCode.Location40324, 'A pipeline stage specification object must contain exactly one field.');
  return keys[0];
}

/** Input of the pipeline: an indexed leading $match is answered from the collection's indexes. */
function sourceRecs(ctx: CommandContext, collName: string | undefined, pipeline: Doc[]): { recs: Rec[]; rest: Doc[] } {
  if (collName === undefined) return { recs: [], rest: pipeline };
  const coll = ctx.deployment.collection(ctx.db, collName);
  if (!coll) return { recs: [], rest: pipeline };
  const first = pipeline[0];
  if (first && isPlainObject(first.$match) && !('$expr' in first.$match)) {
    const filter = first.$match;
    return { recs: coll.select(filter, new Matcher(filter)), rest: pipeline.slice(1) };
  }
  return { recs: [...coll.records.values()], rest: pipeline };
}

function writeOut(ctx: CommandContext, stage: Doc, results: Doc[]): void {
  if (stage.$out !== undefined) {
    const target = typeof stage.$out === 'string' ? stage.$out : String((stage.$out as Doc).coll);
    const existing = ctx.deployment.collection(ctx.db, target);
    const specs = existing ? existing.indexSpecs().slice(1) : [];
    if (existing) ctx.deployment.dropCollection(ctx.db, target);
    const coll = ctx.deployment.createCollection(ctx.db, target, {});
    for (const spec of specs) coll.addIndex(spec);
    for (const doc of results) coll.insert(doc);
    return;
  }
  const spec = stage.$merge;
  const opts: Doc = typeof spec === 'string' ? { into: spec } : (spec as Doc);
  const into = typeof opts.into === 'string' ? opts.into : String((opts.into as Doc).coll);
  const on = opts.on === undefined ? ['_id'] : Array.isArray(opts.on) ? opts.on.map(String) : [String(opts.on)];
  const whenMatched = opts.whenMatched ?? 'merge';
  const whenNotMatched = opts.whenNotMatched ?? 'insert';
  const coll = ctx.deployment.ensureCollection(ctx.db, into);
  for (const doc of results) {
    const filter: Doc = {};
    for (const f of on) filter[f] = doc[f];
    const [match] = coll.select(filter, new Matcher(filter), 1);
    if (!match) {
      if (whenNotMatched === 'insert') coll.insert(doc);
      else if (whenNotMatched === 'fail') throw new DevDbError(ErrorCode.Location40324, '$merge could not find a matching document in the target collection');
      continue;
    }
    if (whenMatched === 'keepExisting') continue;
    if (whenMatched === 'fail') throw new DevDbError(ErrorCode.DuplicateKey, `E11000 duplicate key error collection: ${ctx.db}.${into}`);
    const next = whenMatched === 'replace' ? { ...doc, _id: match.doc._id } : { ...match.doc, ...doc, _id: match.doc._id };
    if (keyOf(next) !== keyOf(match.doc)) coll.update(match, next, whenMatched === 'replace' ? 'replace' : 'update');
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
  if (pipeline[0] && '$changeStream' in pipeline[0]) return openChangeStream(ctx, collName, pipeline, batchSize);

  const ns = `${ctx.db}.${collName ?? '$cmd.aggregate'}`;
  const last = pipeline[pipeline.length - 1];
  const terminal = last && ('$out' in last || '$merge' in last) ? last : undefined;
  const body = terminal ? pipeline.slice(0, -1) : pipeline;
  let docs: Doc[];
  const first = body[0];
  if (first && '$documents' in first) {
    docs = runPipeline(body.slice(1), { docs: (first.$documents as Doc[]).map((doc) => ({ doc, wrapped: true })), resolve: resolver(ctx), now: new Date(ctx.deployment.now()) });
  } else if (first && ('$collStats' in first || '$indexStats' in first)) {
    docs = statsStage(ctx, collName ?? '', first);
    docs = runPipeline(body.slice(1), { docs: docs.map((doc) => ({ doc, wrapped: true })), resolve: resolver(ctx), now: new Date(ctx.deployment.now()) });
  } else {
    const { recs, rest } = sourceRecs(ctx, collName, body);
    docs = rest.length === 0 ? recs.map((r) => r.doc) : runPipeline(rest, { docs: recs, resolve: resolver(ctx), now: new Date(ctx.deployment.now()), variables: isPlainObject(cmd.let) ? cmd.let : undefined });
  }
  if (cmd.explain === true) {
    return { explainVersion: '1', stages: pipeline.map((s) => ({ [stageName(s)]: s[stageName(s)] })), ok: 1 };
  }
  if (terminal) {
    writeOut(ctx, terminal, docs);
    docs = [];
  }
  return openCursor(ctx, new ArrayCursor(ns, docs), batchSize, false);
};

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
