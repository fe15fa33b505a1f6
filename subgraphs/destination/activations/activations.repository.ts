/**
 * The `activations` collection of one sandbox: which segment goes to which
 * destination, how, and how far delivery has got. Progress writes are fenced
 * by the lease epoch (activationLeases.repository.ts): a deliverer whose lease
 * was taken over writes nothing more.
 */
import type { Collection, Db, Filter, UpdateFilter } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import type { JsonObject } from '../../../lib/subgraph/scalars.js';
import type { DeliveryCounts, FieldMapping, MemberType } from '../connectors/index.js';
import type { DestinationType } from '../destinations.repository.js';

export type ActivationStatus = 'ACTIVE' | 'DEACTIVATING' | 'INACTIVE';

/** A paged pass over the segment's current members: the backfill (adds), a full file run, or the removal on deactivation. */
export interface MemberPass {
  done: boolean;
  /** The last memberId handled; null before the first page. */
  after: string | null;
  /** One run id for the whole pass, so files of one pass share a name and webhook events keep their ids when resent. */
  runId: string;
  /** The next page's number within the run. */
  sequence: number;
  /** The pass starts no earlier (the event log is sealed up to the activation's start position by then). */
  notBefore: Date;
}

/** A batch of log changes or retries being delivered: resent with the same run id after a crash. */
export interface InflightBatch {
  kind: 'events' | 'retries';
  runId: string;
  /** events: the position the batch ends at. */
  through?: number;
  /** retries: the members retried. */
  memberIds?: string[];
}

export interface RunSummary extends DeliveryCounts {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
}

export interface ActivationRecord {
  id: string;
  segmentId: string;
  destinationId: string;
  destinationType: DestinationType;
  memberType: MemberType;
  /** `STREAMING` or a five-field cron expression (UTC). */
  schedule: string;
  mapping: FieldMapping[];
  options: JsonObject;
  status: ActivationStatus;
  /** Set by deactivateSegment: take the members out of the destination before becoming INACTIVE. */
  removeMembers: boolean;
  /** Every log change at or below this position is delivered, retried or dead-lettered. */
  position: number;
  backfill: MemberPass;
  removal: MemberPass | null;
  inflight: InflightBatch | null;
  lastRun: RunSummary | null;
  totals: DeliveryCounts;
  /** Why delivery is held back (a destination that cannot be used as configured), and until when. */
  blocked: { code: string; message: string; until: Date } | null;
  leaseEpoch: number;
  /** Files: the run id of the newest complete set of audience files (a backfill or FULL run), read back by reconcile. */
  fileRunId: string | null;
  createdAt: Date;
  updatedAt: Date;
  deactivatedAt: Date | null;
}

export interface ProgressUpdate {
  position?: number;
  backfill?: MemberPass;
  removal?: MemberPass | null;
  inflight?: InflightBatch | null;
  counts?: DeliveryCounts;
  blocked?: ActivationRecord['blocked'];
  status?: ActivationStatus;
  options?: JsonObject;
}

interface ActivationDocument extends Omit<ActivationRecord, 'id'> {
  _id: string;
}

export const ZERO_COUNTS: DeliveryCounts = Object.freeze({ delivered: 0, removed: 0, failed: 0, excluded: 0 });
const ensureIndexes = oncePerKey();

function toRecord({ _id, ...rest }: ActivationDocument): ActivationRecord {
  return { id: _id, ...rest };
}

/** A deliverer's write found another epoch: its lease was taken over. */
export class LeaseLostError extends Error {
  constructor(activationId: string) {
    super(`The delivery lease of ${activationId} was taken over`);
    this.name = 'LeaseLostError';
  }
}

export class ActivationsRepository {
  private readonly activations: Collection<ActivationDocument>;

  constructor(private readonly db: Db) {
    this.activations = db.collection<ActivationDocument>('activations');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      Promise.all([
        this.activations.createIndex({ segmentId: 1, _id: 1 }, { name: 'segmentId_id' }),
        this.activations.createIndex({ destinationId: 1, status: 1 }, { name: 'destinationId_status' }),
      ]),
    );
  }

  async insert(record: ActivationRecord): Promise<ActivationRecord> {
    await this.ensureIndexes();
    const { id, ...rest } = record;
    await this.activations.insertOne({ _id: id, ...rest });
    return record;
  }

  async find(id: string): Promise<ActivationRecord | null> {
    const doc = await this.activations.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<ActivationRecord[]> {
    const docs = await this.activations.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toRecord);
  }

  /** Activations in creation order, optionally of one segment and/or destination. */
  async list(query: { segmentId?: string; destinationId?: string; after?: string; limit: number }): Promise<ActivationRecord[]> {
    const filter: Filter<ActivationDocument> = {};
    if (query.segmentId) filter.segmentId = query.segmentId;
    if (query.destinationId) filter.destinationId = query.destinationId;
    if (query.after) filter._id = { $gt: query.after };
    const docs = await this.activations.find(filter).sort({ _id: 1 }).limit(query.limit).toArray();
    return docs.map(toRecord);
  }

  /** The activations of each segment, in segment order (one `$in` query). */
  async listForSegments(segmentIds: readonly string[]): Promise<ActivationRecord[]> {
    const docs = await this.activations.find({ segmentId: { $in: [...segmentIds] } }).sort({ _id: 1 }).toArray();
    return docs.map(toRecord);
  }

  /** Activations of a destination that are not INACTIVE. */
  countLive(destinationId: string): Promise<number> {
    return this.activations.countDocuments({ destinationId, status: { $ne: 'INACTIVE' } });
  }

  /** Moves to DEACTIVATING or INACTIVE from ACTIVE; null when the activation is not ACTIVE (or missing). */
  async deactivate(id: string, removeMembers: boolean, removal: MemberPass | null, now: Date): Promise<ActivationRecord | null> {
    const doc = await this.activations.findOneAndUpdate(
      { _id: id, status: 'ACTIVE' },
      { $set: { status: removeMembers ? 'DEACTIVATING' : 'INACTIVE', removeMembers, removal, deactivatedAt: now, updatedAt: now } },
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }

  /** Takes the activation for a deliverer holding lease `epoch`; false when a later epoch has it. */
  async fence(id: string, epoch: number): Promise<boolean> {
    const result = await this.activations.updateOne({ _id: id, leaseEpoch: { $lte: epoch } }, { $set: { leaseEpoch: epoch } });
    return result.matchedCount === 1;
  }

  /** Writes a deliverer's progress; LeaseLostError when its epoch is no longer the activation's. */
  async progress(id: string, epoch: number, update: ProgressUpdate, now: Date): Promise<void> {
    const set: Record<string, unknown> = { updatedAt: now };
    for (const key of ['position', 'backfill', 'removal', 'inflight', 'blocked', 'status', 'options'] as const) {
      if (update[key] !== undefined) set[key] = update[key];
    }
    const change: UpdateFilter<ActivationDocument> = { $set: set };
    if (update.counts) {
      change.$inc = Object.fromEntries(Object.entries(update.counts).map(([name, value]) => [`totals.${name}`, value]));
    }
    const result = await this.activations.updateOne({ _id: id, leaseEpoch: epoch }, change);
    if (result.matchedCount !== 1) throw new LeaseLostError(id);
  }

  /** Records a finished run (a drain of everything that was due). */
  async recordRun(id: string, epoch: number, run: RunSummary): Promise<void> {
    const result = await this.activations.updateOne({ _id: id, leaseEpoch: epoch }, { $set: { lastRun: run } });
    if (result.matchedCount !== 1) throw new LeaseLostError(id);
  }

  /** Records a complete set of audience files; run ids sort by time, so the newest wins. */
  async recordFileRun(id: string, runId: string): Promise<void> {
    await this.activations.updateOne({ _id: id }, { $max: { fileRunId: runId } });
  }

  /** Starts a new pass over the members (a scheduled FULL file run), unless one is under way. */
  async startPass(id: string, epoch: number, pass: MemberPass): Promise<void> {
    await this.activations.updateOne({ _id: id, leaseEpoch: epoch, 'backfill.done': true }, { $set: { backfill: pass } });
  }
}
