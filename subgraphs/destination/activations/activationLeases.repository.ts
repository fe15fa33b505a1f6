/**
 * `activationLeases` (platform database): one document per activation that a
 * worker must deliver, so every worker process finds the work of every sandbox
 * with one query, and at most one of them delivers an activation at a time.
 *
 * `continuous` activations (streaming ones, and any activation taking its
 * members out after deactivation) are held by the delivery service for as long
 * as it runs; scheduled ones are taken by their Agenda job for one run. Each
 * claim bumps `epoch`, which fences the activation's progress writes
 * (ActivationsRepository.progress): a worker that lost its lease writes nothing.
 */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';

export interface ActivationLease {
  sandbox: string;
  activationId: string;
  continuous: boolean;
  owner: string | null;
  until: Date;
  epoch: number;
}

export interface HeldActivationLease {
  sandbox: string;
  activationId: string;
  owner: string;
  epoch: number;
}

type LeaseDocument = ActivationLease & { _id: string };

const EPOCH = new Date(0);
const ensureIndexes = oncePerKey();
const leaseId = (sandbox: string, activationId: string) => `${sandbox}/${activationId}`;

export class ActivationLeasesRepository {
  private readonly leases: Collection<LeaseDocument>;

  constructor(private readonly db: Db) {
    this.leases = db.collection<LeaseDocument>('activationLeases');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () => this.leases.createIndex({ continuous: 1, until: 1 }, { name: 'continuous_until' }));
  }

  /** Registers an activation for delivery (idempotent); `continuous` is set either way. */
  async register(sandbox: string, activationId: string, continuous: boolean): Promise<void> {
    await this.ensureIndexes();
    await this.leases.updateOne(
      { _id: leaseId(sandbox, activationId) },
      { $set: { continuous }, $setOnInsert: { sandbox, activationId, owner: null, until: EPOCH, epoch: 0 } },
      { upsert: true },
    );
  }

  async remove(sandbox: string, activationId: string): Promise<void> {
    await this.leases.deleteOne({ _id: leaseId(sandbox, activationId) });
  }

  /** Continuous activations nobody holds at `now`. */
  async claimable(now: Date, limit: number): Promise<ActivationLease[]> {
    await this.ensureIndexes();
    const docs = await this.leases.find({ continuous: true, until: { $lte: now } }).limit(limit).toArray();
    return docs.map(({ _id: _ignored, ...rest }) => rest);
  }

  /** Claims the lease when it is free at `now`; null when another owner holds it. */
  async claim(sandbox: string, activationId: string, owner: string, now: Date, until: Date): Promise<HeldActivationLease | null> {
    const doc = await this.leases.findOneAndUpdate(
      { _id: leaseId(sandbox, activationId), until: { $lte: now } },
      { $set: { owner, until }, $inc: { epoch: 1 } },
      { returnDocument: 'after' },
    );
    return doc ? { sandbox, activationId, owner, epoch: doc.epoch } : null;
  }

  /** Extends a held lease; false when it is no longer this holder's (or is gone). */
  async renew(lease: HeldActivationLease, until: Date): Promise<boolean> {
    const result = await this.leases.updateOne({ _id: leaseId(lease.sandbox, lease.activationId), owner: lease.owner, epoch: lease.epoch }, { $set: { until } });
    return result.matchedCount === 1;
  }

  async release(lease: HeldActivationLease): Promise<void> {
    await this.leases.updateOne({ _id: leaseId(lease.sandbox, lease.activationId), owner: lease.owner, epoch: lease.epoch }, { $set: { until: EPOCH, owner: null } });
  }
}
