/**
 * `streamingLeases` in the platform database: one document per sandbox, holding both the
 * lease (which worker evaluates the sandbox's changes, until when) and where that evaluation
 * is (the resume token, the batch in flight, pending passes, the status the API shows).
 *
 * A lease is held until `expiresAt` and renewed while held; once it expires any worker may
 * claim it, which increments `epoch`. Every write names the owner and epoch of its writer, so
 * a worker that lost its lease can neither move the token nor record a batch. Keeping this in
 * the platform database leaves a sandbox's own database with only data-driven writes.
 */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import { STREAMING_LEASES_COLLECTION, type InFlightBatch, type PendingPass, type StreamingStatus } from './layout.js';

export interface PartitionState {
  /** Opaque: the change stream's own token. Null before the first stream was opened. */
  resumeToken: unknown;
  /** Whether the first full pass over the sandbox was queued. */
  initialized: boolean;
  inFlight: InFlightBatch | null;
  passes: PendingPass[];
  status: StreamingStatus;
  /** Written at every checkpoint, at least every few seconds while idle (wall clock). */
  heartbeatAt: Date | null;
}

interface PartitionDocument extends PartitionState {
  _id: string;
  owner: string | null;
  epoch: number;
  expiresAt: Date;
}

/** A lease as held: the sandbox, its holder and the epoch of this claim. */
export interface HeldLease {
  sandbox: string;
  owner: string;
  epoch: number;
}

export type Checkpoint = Omit<PartitionState, 'inFlight'> & { heartbeatAt: Date };

const EMPTY_STATE: PartitionState = {
  resumeToken: null,
  initialized: false,
  inFlight: null,
  passes: [],
  status: { lagMs: 0, pendingChanges: 0, lastChangeAt: null },
  heartbeatAt: null,
};

const ensureIndexes = oncePerKey();
const isDuplicateKey = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
const fence = (lease: HeldLease) => ({ _id: lease.sandbox, owner: lease.owner, epoch: lease.epoch });

function stateOf(doc: PartitionDocument): PartitionState {
  return {
    resumeToken: doc.resumeToken ?? null,
    initialized: doc.initialized ?? false,
    inFlight: doc.inFlight ?? null,
    // A pass stored without its start is at least as old as the last checkpoint.
    passes: (doc.passes ?? []).map((pass) => ({ ...pass, since: pass.since ?? doc.heartbeatAt ?? new Date(0) })),
    status: doc.status ?? EMPTY_STATE.status,
    heartbeatAt: doc.heartbeatAt ?? null,
  };
}

export class PartitionsRepository {
  private readonly partitions: Collection<PartitionDocument>;

  constructor(private readonly platformDb: Db) {
    this.partitions = platformDb.collection<PartitionDocument>(STREAMING_LEASES_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.platformDb.databaseName, () => this.partitions.createIndex({ owner: 1, expiresAt: 1 }, { name: 'owner_expiresAt' }));
  }

  /** Claims the sandbox when nobody holds an unexpired lease; answers the lease and the state as left, or null. */
  async claim(sandbox: string, owner: string, now: Date, expiresAt: Date): Promise<{ lease: HeldLease; state: PartitionState } | null> {
    try {
      const doc = await this.partitions.findOneAndUpdate(
        { _id: sandbox, $or: [{ owner: null }, { expiresAt: { $lte: now } }] },
        { $set: { owner, expiresAt }, $inc: { epoch: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      return doc ? { lease: { sandbox, owner, epoch: doc.epoch }, state: stateOf(doc) } : null;
    } catch (error) {
      // The upsert met the held lease's document: someone else holds it.
      if (isDuplicateKey(error)) return null;
      throw error;
    }
  }

  /** Extends a held lease; false when it was lost (claimed by another after it expired). */
  async renew(lease: HeldLease, expiresAt: Date): Promise<boolean> {
    return (await this.partitions.updateOne(fence(lease), { $set: { expiresAt } })).matchedCount === 1;
  }

  /** Hands the lease back, so another worker may claim it at once. */
  async release(lease: HeldLease, now: Date): Promise<void> {
    await this.partitions.updateOne(fence(lease), { $set: { owner: null, expiresAt: now } });
  }

  /** Records the batch about to write memberships; false when the lease is lost. */
  async begin(lease: HeldLease, batch: InFlightBatch): Promise<boolean> {
    return (await this.partitions.updateOne(fence(lease), { $set: { inFlight: batch } })).matchedCount === 1;
  }

  /** Saves progress after a batch's writes, clearing the batch in flight; false when the lease is lost. */
  async checkpoint(lease: HeldLease, checkpoint: Checkpoint): Promise<boolean> {
    return (await this.partitions.updateOne(fence(lease), { $set: { ...checkpoint, inFlight: null } })).matchedCount === 1;
  }

  /** Forgets the batch in flight once its events are known to be written; false when the lease is lost. */
  async clearInFlight(lease: HeldLease): Promise<boolean> {
    return (await this.partitions.updateOne(fence(lease), { $set: { inFlight: null } })).matchedCount === 1;
  }

  /** The sandbox's lease and state; null before any worker claimed it. */
  async read(sandbox: string): Promise<(PartitionState & { owner: string | null; epoch: number; expiresAt: Date }) | null> {
    const doc = await this.partitions.findOne({ _id: sandbox });
    return doc ? { ...stateOf(doc), owner: doc.owner, epoch: doc.epoch, expiresAt: doc.expiresAt } : null;
  }
}
