/**
 * The `sources` collection of one sandbox: Marketo instances and Salesforce orgs
 * the platform pulls from. Credentials are stored sealed and projected out of
 * every read for the API. The document also holds what keeps syncs safe: the
 * committed cursor, the lease that lets one worker at a time sync the source,
 * and the failure state that backs scheduled syncs off.
 */
import type { Collection, Db } from 'mongodb';
import type { JsonObject } from '../../../lib/subgraph/scalars.js';
import type { SealedCredentials } from '../../../lib/crypto/credentialsVault.js';

export type SourceType = 'MARKETO' | 'SALESFORCE';
export type SyncMode = 'INCREMENTAL' | 'FULL';
/** Opaque to everything but the source's connector: where the next sync starts. */
export type SourceCursor = JsonObject;

export interface SourceFailure {
  code: string;
  message: string;
  at: Date;
  /** False for bad credentials and the like: scheduled syncs wait for the source to be changed. */
  retryable: boolean;
}

export interface SourceRecord {
  id: string;
  type: SourceType;
  name: string;
  config: JsonObject;
  /** Seconds between scheduled incremental syncs. */
  syncIntervalSeconds: number;
  credentialsUpdatedAt: Date | null;
  cursor: SourceCursor | null;
  lastRunId: string | null;
  lastSyncedAt: Date | null;
  failure: SourceFailure | null;
  consecutiveFailures: number;
  /** Scheduled syncs do not start before this (backoff after a failure). */
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SourceChanges {
  name?: string;
  config?: JsonObject;
  syncIntervalSeconds?: number;
  credentials?: SealedCredentials | null;
}

interface SourceDocument extends Omit<SourceRecord, 'id'> {
  _id: string;
  credentials: SealedCredentials | null;
  lease: { holder: string; until: Date } | null;
}

const WITHOUT_SECRETS = { projection: { credentials: 0, lease: 0 } } as const;

function toRecord(doc: Omit<SourceDocument, 'credentials' | 'lease'>): SourceRecord {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

export class SourcesRepository {
  private readonly sources: Collection<SourceDocument>;

  constructor(db: Db) {
    this.sources = db.collection<SourceDocument>('sources');
  }

  async findById(id: string): Promise<SourceRecord | null> {
    const doc = await this.sources.findOne({ _id: id }, WITHOUT_SECRETS);
    return doc ? toRecord(doc) : null;
  }

  async findByIds(ids: readonly string[]): Promise<SourceRecord[]> {
    return (await this.sources.find({ _id: { $in: [...ids] } }, WITHOUT_SECRETS).toArray()).map(toRecord);
  }

  /** The source with its sealed credentials, for connectors only; never for an API answer. */
  async findWithCredentials(id: string): Promise<{ source: SourceRecord; credentials: SealedCredentials | null } | null> {
    const doc = await this.sources.findOne({ _id: id }, { projection: { lease: 0 } });
    if (!doc) return null;
    const { credentials, ...rest } = doc;
    return { source: toRecord(rest), credentials: credentials ?? null };
  }

  async list(limit: number, type?: SourceType): Promise<SourceRecord[]> {
    const docs = await this.sources.find(type ? { type } : {}, WITHOUT_SECRETS).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  async insert(record: SourceRecord, credentials: SealedCredentials | null): Promise<SourceRecord> {
    const { id, ...rest } = record;
    await this.sources.insertOne({ _id: id, ...rest, credentials, lease: null });
    return record;
  }

  /** A changed source is worth trying again at once: its failure state is cleared. */
  async update(id: string, changes: SourceChanges, now: Date): Promise<SourceRecord | null> {
    const set: Partial<SourceDocument> = { updatedAt: now, failure: null, consecutiveFailures: 0, nextAttemptAt: null };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.config !== undefined) set.config = changes.config;
    if (changes.syncIntervalSeconds !== undefined) set.syncIntervalSeconds = changes.syncIntervalSeconds;
    if (changes.credentials !== undefined) {
      set.credentials = changes.credentials;
      set.credentialsUpdatedAt = changes.credentials ? now : null;
    }
    const doc = await this.sources.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after', ...WITHOUT_SECRETS });
    return doc ? toRecord(doc) : null;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.sources.deleteOne({ _id: id })).deletedCount === 1;
  }

  /**
   * Takes the source's lease for `holder` until `until`, when nobody holds it or
   * its holder's lease has run out (a killed worker); false when another holds it.
   * The holder renews it as it commits pages, so only a dead worker's lease lapses.
   */
  async acquireLease(id: string, holder: string, now: Date, until: Date): Promise<boolean> {
    const doc = await this.sources.findOneAndUpdate(
      { _id: id, $or: [{ lease: null }, { 'lease.until': { $lte: now } }, { 'lease.holder': holder }] },
      { $set: { lease: { holder, until } } },
      { projection: { _id: 1 } },
    );
    return doc !== null;
  }

  async releaseLease(id: string, holder: string): Promise<void> {
    await this.sources.updateOne({ _id: id, 'lease.holder': holder }, { $set: { lease: null } });
  }

  /**
   * Stores the cursor after a committed page and renews the lease, only while
   * `holder` holds it; false when the lease was lost (another worker took over).
   */
  async commitCursor(id: string, holder: string, cursor: SourceCursor, leaseUntil: Date): Promise<boolean> {
    const result = await this.sources.updateOne({ _id: id, 'lease.holder': holder }, { $set: { cursor, 'lease.until': leaseUntil } });
    return result.matchedCount === 1;
  }

  async recordRunStart(id: string, runId: string): Promise<void> {
    await this.sources.updateOne({ _id: id }, { $set: { lastRunId: runId } });
  }

  async recordSuccess(id: string, at: Date): Promise<void> {
    await this.sources.updateOne({ _id: id }, { $set: { lastSyncedAt: at, failure: null, consecutiveFailures: 0, nextAttemptAt: null } });
  }

  async recordFailure(id: string, failure: SourceFailure, nextAttemptAt: Date | null): Promise<void> {
    await this.sources.updateOne({ _id: id }, { $set: { failure, nextAttemptAt }, $inc: { consecutiveFailures: 1 } });
  }
}
