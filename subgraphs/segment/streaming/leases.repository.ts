/**
 * `streamingLeases` in the platform database: which worker evaluates which sandbox's changes.
 * A lease is held until `expiresAt` and renewed while held; once it expires any worker may
 * claim it, which increments `epoch`. The epoch fences the holder's writes to the sandbox's
 * streaming state (`streamingState.repository.ts`).
 */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import { STREAMING_LEASES_COLLECTION } from './layout.js';

interface LeaseDocument {
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

const ensureIndexes = oncePerKey();
const isDuplicateKey = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

export class StreamingLeasesRepository {
  private readonly leases: Collection<LeaseDocument>;

  constructor(private readonly platformDb: Db) {
    this.leases = platformDb.collection<LeaseDocument>(STREAMING_LEASES_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.platformDb.databaseName, () => this.leases.createIndex({ owner: 1 }, { name: 'owner' }));
  }

  /** Claims the sandbox's lease when nobody holds an unexpired one; null when someone does. */
  async claim(sandbox: string, owner: string, now: Date, expiresAt: Date): Promise<HeldLease | null> {
    try {
      const doc = await this.leases.findOneAndUpdate(
        { _id: sandbox, $or: [{ owner: null }, { expiresAt: { $lte: now } }] },
        { $set: { owner, expiresAt }, $inc: { epoch: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      return doc ? { sandbox, owner, epoch: doc.epoch } : null;
    } catch (error) {
      // The upsert met the held lease's document: someone else holds it.
      if (isDuplicateKey(error)) return null;
      throw error;
    }
  }

  /** Extends a held lease; false when it was lost (claimed by another after it expired). */
  async renew(lease: HeldLease, expiresAt: Date): Promise<boolean> {
    const result = await this.leases.updateOne({ _id: lease.sandbox, owner: lease.owner, epoch: lease.epoch }, { $set: { expiresAt } });
    return result.matchedCount === 1;
  }

  /** Hands the lease back, so another worker may claim it at once. */
  async release(lease: HeldLease, now: Date): Promise<void> {
    await this.leases.updateOne({ _id: lease.sandbox, owner: lease.owner, epoch: lease.epoch }, { $set: { owner: null, expiresAt: now } });
  }

  /** Whether some worker holds an unexpired lease on the sandbox. */
  async isHeld(sandbox: string, now: Date): Promise<boolean> {
    return (await this.leases.countDocuments({ _id: sandbox, owner: { $ne: null }, expiresAt: { $gt: now } }, { limit: 1 })) === 1;
  }
}
