import { Timestamp } from 'bson';
import { changePrefilter, type ChangePrefilter } from '../query/changeFilter.js';
import { compileChangePipeline, NotCovered, type ChangePipeline } from '../query/changePipeline.js';
import { Aggregator, guardPipeline } from '../query/mingoContext.js';
import { DevDbError, ErrorCode } from '../errors.js';
import { hasWrappedNumbers, isPlainObject, keyOf, toPlain, type Doc } from '../query/values.js';
import { ChangeLog, type ChangeEntry, type ResumeToken } from '../storage/changeLog.js';
import type { BatchOptions, BatchResult, ServerCursor } from '../storage/cursors.js';
import type { Deployment } from '../storage/deployment.js';
import type { CommandContext } from './context.js';
import { openCursor } from './find.js';

const ALLOWED_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith', '$redact']);
const INTERNAL_DBS = new Set(['admin', 'config', 'local']);

type Scope = { kind: 'collection'; db: string; coll: string } | { kind: 'database'; db: string } | { kind: 'cluster' };

interface Pending {
  seq: number;
  event: Doc;
}

/** Log entries one collect reads at most; see collect(). */
const COLLECT_LIMIT = 2_000;

/** A change stream: reads the deployment's change log from a position, filters by scope and pipeline. */
class ChangeStreamCursor implements ServerCursor {
  private pending: Pending[] = [];
  private invalidated = false;
  private readonly stages: Aggregator | null;
  /** The pipeline without mingo, when it is made of what changePipeline.ts covers. */
  private readonly fastStages: ChangePipeline | null;
  /** Rules out, before rendering, events of a database or cluster stream that its leading `$match` would drop. */
  private readonly prefilter: ChangePrefilter | null;

  constructor(
    readonly ns: string,
    private readonly deployment: Deployment,
    private readonly scope: Scope,
    private pos: number,
    private readonly fullDocument: string,
    pipeline: Doc[],
  ) {
    const plain = toPlain(pipeline) as Doc[];
    this.stages = plain.length > 0 ? new Aggregator(guardPipeline(plain)) : null;
    this.fastStages = plain.length > 0 ? compileChangePipeline(plain) : null;
    // A collection stream renders its own drops differently (see collect()) and sees one collection anyway.
    this.prefilter = scope.kind === 'collection' ? null : changePrefilter(pipeline);
  }

  private mayMatch(e: ChangeEntry): boolean {
    if (!this.prefilter) return true;
    const ns = e.event.ns as { db?: string; coll?: string } | undefined;
    return this.prefilter({ db: ns?.db, coll: ns?.coll, operationType: e.event.operationType as string });
  }

  private inScope(e: ChangeEntry): boolean {
    const s = this.scope;
    if (s.kind === 'cluster') return !INTERNAL_DBS.has(e.db);
    if (s.kind === 'database') return e.db === s.db && !(e.coll ?? '').startsWith('system.');
    return e.db === s.db && (e.coll === s.coll || (e.event.operationType === 'dropDatabase'));
  }

  /** The event as the client sees it, with the resume token and an updateLookup when asked for. */
  private render(e: ChangeEntry): Doc {
    const ev = e.event;
    const out: Doc = { _id: ChangeLog.token(e.seq), operationType: ev.operationType, clusterTime: ChangeLog.clusterTime(e), wallTime: new Date(e.wallMs) };
    let full = ev.fullDocument;
    if (ev.operationType === 'update' && this.fullDocument !== 'default' && e.coll) {
      const coll = this.deployment.collection(e.db, e.coll);
      full = coll?.getById((ev.documentKey as Doc)._id)?.doc ?? null;
    }
    if (full !== undefined) out.fullDocument = full;
    for (const k of ['ns', 'to', 'documentKey', 'updateDescription']) if (ev[k] !== undefined) out[k] = ev[k];
    return out;
  }

  private invalidate(e: ChangeEntry): void {
    this.pending.push({ seq: e.seq, event: { _id: ChangeLog.token(e.seq, true), operationType: 'invalidate', clusterTime: ChangeLog.clusterTime(e), wallTime: new Date(e.wallMs) } });
    this.invalidated = true;
  }

  /** Resuming right after the event that invalidated this stream: the invalidate comes next, as in MongoDB. */
  resumedAfter(e: ChangeEntry | undefined): void {
    if (e && this.inScope(e) && this.invalidates(e)) this.invalidate(e);
  }

  private invalidates(e: ChangeEntry): boolean {
    const op = e.event.operationType;
    if (this.scope.kind === 'collection') return op === 'drop' || op === 'rename' || op === 'dropDatabase';
    if (this.scope.kind === 'database') return op === 'dropDatabase';
    return false;
  }

  /**
   * Reads the next log entries into `pending`, at most COLLECT_LIMIT of them per call: a stream far
   * behind the log catches up over several getMores instead of holding the server for one long pass.
   */
  private collect(): void {
    if (this.invalidated) return;
    const events: Pending[] = [];
    let invalidating: ChangeEntry | undefined;
    for (const e of this.deployment.changeLog.after(this.pos, COLLECT_LIMIT)) {
      this.pos = e.seq;
      if (!this.inScope(e)) continue;
      if (this.mayMatch(e)) {
        const op = e.event.operationType;
        // A collection stream sees its own drop; a dropDatabase shows up as that drop, then invalidate.
        const ev = this.scope.kind === 'collection' && op === 'dropDatabase'
          ? { ...this.render(e), operationType: 'drop', ns: { db: e.db, coll: this.scope.coll } }
          : this.render(e);
        events.push({ seq: e.seq, event: ev });
      }
      if (this.invalidates(e)) {
        invalidating = e;
        break;
      }
    }
    for (const shown of this.applyPipeline(events)) this.pending.push(shown);
    if (invalidating) this.invalidate(invalidating);
  }

  /**
   * The pipeline over the new events, in one run: its stages each take one event at a time, so one
   * run over many gives what a run per event would, without compiling the stages again per event.
   */
  private applyPipeline(events: Pending[]): Pending[] {
    if (!this.stages || events.length === 0) return events;
    const input = events.map((p) => (hasWrappedNumbers(p.event) ? (toPlain(p.event) as Doc) : p.event));
    if (this.fastStages) return this.applyFastPipeline(events, input);
    const seqOf = new Map(events.map((p) => [keyOf(p.event._id), p.seq]));
    return (this.stages.run(input) as Doc[]).map((out) => {
      const seq = seqOf.get(keyOf(out._id));
      if (seq === undefined) throw tokenModified();
      return { seq, event: out };
    });
  }

  /** One event at a time; an event the fast pipeline does not cover goes through mingo alone. */
  private applyFastPipeline(events: Pending[], input: Doc[]): Pending[] {
    const shown: Pending[] = [];
    events.forEach((pending, i) => {
      let out: Doc | null;
      try {
        out = this.fastStages!(input[i]!);
      } catch (error) {
        if (!(error instanceof NotCovered)) throw error;
        out = (this.stages!.run([input[i]!]) as Doc[])[0] ?? null;
      }
      if (out === null) return;
      if (out._id === undefined || keyOf(out._id) !== keyOf(pending.event._id)) throw tokenModified();
      shown.push({ seq: pending.seq, event: out });
    });
    return shown;
  }

  async nextBatch(batchSize: number, options: BatchOptions): Promise<BatchResult> {
    if (batchSize <= 0 || this.pending.length < batchSize) this.collect();
    // Behind the log's end, an empty batch answers at once with the position reached (as mongod's does).
    const log = this.deployment.changeLog;
    if (this.pending.length === 0 && !this.invalidated && !options.first && this.pos >= log.lastSeq) {
      // Like mongod's awaitData getMore, appends this stream does not show leave it waiting until the await time is
      // up: answering each with an empty batch would send every idle stream's client a getMore per write anywhere.
      const deadline = Date.now() + (options.maxTimeMS ?? 1000);
      for (let left = deadline - Date.now(); left > 0 && !options.signal?.aborted; left = deadline - Date.now()) {
        await log.waitForAppend(left, options.signal);
        this.collect();
        if (this.pending.length > 0 || this.invalidated || this.pos < log.lastSeq) break;
      }
    }
    const n = batchSize > 0 ? Math.min(batchSize, this.pending.length) : this.pending.length;
    const batch = this.pending.splice(0, n);
    const token: ResumeToken = this.pending.length > 0 ? ChangeLog.token(batch[batch.length - 1].seq) : ChangeLog.token(this.pos);
    return { docs: batch.map((p) => p.event), exhausted: this.invalidated && this.pending.length === 0, postBatchResumeToken: token };
  }
}

function tokenModified(): DevDbError {
  return new DevDbError(ErrorCode.ChangeStreamFatalError, 'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.');
}

const SPEC_FIELDS = new Set(['resumeAfter', 'startAfter', 'startAtOperationTime', 'fullDocument', 'fullDocumentBeforeChange', 'allChangesForCluster', 'showExpandedEvents']);

/** Refuses what devdb's change log cannot give (pre- and post-images, expanded DDL events) rather than ignoring it. */
function checkSpec(spec: Doc): void {
  for (const k of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(k)) throw new DevDbError(ErrorCode.Location40415, `BSON field '$changeStream.${k}' is an unknown field.`);
  }
  if (spec.fullDocumentBeforeChange !== undefined && spec.fullDocumentBeforeChange !== 'off') {
    throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support fullDocumentBeforeChange '${String(spec.fullDocumentBeforeChange)}' (change stream pre-images)`);
  }
  if (spec.fullDocument === 'whenAvailable' || spec.fullDocument === 'required') {
    throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support fullDocument '${spec.fullDocument}' (change stream post-images); use 'updateLookup'`);
  }
  if (spec.showExpandedEvents === true) throw new DevDbError(ErrorCode.InvalidOptions, 'devdb does not support showExpandedEvents (expanded DDL change events)');
  if (spec.resumeAfter !== undefined && spec.startAfter !== undefined) {
    throw new DevDbError(ErrorCode.Location40674, 'Only one type of resume option is allowed, but multiple were found.');
  }
}

/** Handles `aggregate` with a leading `$changeStream` stage (collection, database or cluster scope). */
export async function openChangeStream(ctx: CommandContext, collName: string | undefined, pipeline: Doc[], batchSize: number): Promise<Doc> {
  const spec = pipeline[0].$changeStream;
  if (!isPlainObject(spec)) throw new DevDbError(ErrorCode.TypeMismatch, '$changeStream stage must be an object');
  checkSpec(spec);
  const rest = pipeline.slice(1);
  for (const s of rest) {
    const name = Object.keys(s)[0];
    if (!ALLOWED_STAGES.has(name)) throw new DevDbError(ErrorCode.IllegalOperation, `${name} is not permitted in a $changeStream pipeline`);
  }
  let scope: Scope;
  if (collName !== undefined) scope = { kind: 'collection', db: ctx.db, coll: collName };
  else if (spec.allChangesForCluster === true) {
    if (ctx.db !== 'admin') throw new DevDbError(ErrorCode.InvalidOptions, "$changeStream may only be run with allChangesForCluster on the 'admin' database");
    scope = { kind: 'cluster' };
  } else {
    if (ctx.db === 'admin') throw new DevDbError(ErrorCode.InvalidOptions, "$changeStream may not be opened on the internal admin database");
    scope = { kind: 'database', db: ctx.db };
  }
  const log = ctx.deployment.changeLog;
  let pos = log.lastSeq;
  const token = spec.resumeAfter ?? spec.startAfter;
  let resumedAt: ChangeEntry | undefined;
  if (token !== undefined) {
    const parsed = ChangeLog.parseToken(token);
    if (parsed.invalidate && spec.resumeAfter !== undefined) {
      throw new DevDbError(ErrorCode.InvalidResumeToken, "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.");
    }
    pos = parsed.seq;
    if (pos > log.lastSeq) throw new DevDbError(ErrorCode.InvalidResumeToken, 'resume token is from the future');
    log.after(pos); // throws ChangeStreamHistoryLost when the log no longer reaches back that far
    // startAfter an invalidate starts a new stream after it; any other token resumes after its event.
    if (!parsed.invalidate) resumedAt = log.at(pos);
  } else if (spec.startAtOperationTime !== undefined) {
    if (!(spec.startAtOperationTime instanceof Timestamp)) throw new DevDbError(ErrorCode.TypeMismatch, 'startAtOperationTime must be a Timestamp');
    pos = log.seqAtTime(spec.startAtOperationTime);
  }
  const fullDocument = typeof spec.fullDocument === 'string' ? spec.fullDocument : 'default';
  if (!['default', 'updateLookup'].includes(fullDocument)) {
    throw new DevDbError(ErrorCode.BadValue, `unknown fullDocument mode '${fullDocument}'`);
  }
  const ns = scope.kind === 'collection' ? `${ctx.db}.${scope.coll}` : `${ctx.db}.$cmd.aggregate`;
  const cursor = new ChangeStreamCursor(ns, ctx.deployment, scope, pos, fullDocument, rest);
  cursor.resumedAfter(resumedAt);
  return openCursor(ctx, cursor, batchSize, false, { operationTime: log.currentTime() });
}
