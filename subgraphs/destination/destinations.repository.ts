/**
 * The `destinations` collection of one sandbox. Reads for the API never load
 * credentials (they are projected out), so no resolver can return them.
 */
import type { Collection, Db, Filter } from 'mongodb';
import type { PageQuery } from '../../lib/subgraph/pagination.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import type { SealedCredentials } from '../../lib/crypto/credentialsVault.js';

export type DestinationType = 'MARKETO' | 'LINKEDIN' | 'CLOUD_STORAGE' | 'WEBHOOK';

export interface DestinationRecord {
  id: string;
  type: DestinationType;
  name: string;
  config: JsonObject;
  credentialsUpdatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DestinationChanges {
  name?: string;
  config?: JsonObject;
  /** A new sealed value, or null to remove the stored credentials. */
  credentials?: SealedCredentials | null;
}

interface DestinationDocument extends Omit<DestinationRecord, 'id'> {
  _id: string;
  credentials: SealedCredentials | null;
}

const WITHOUT_CREDENTIALS = { projection: { credentials: 0 } } as const;

function toRecord(doc: Omit<DestinationDocument, 'credentials'>): DestinationRecord {
  return {
    id: doc._id,
    type: doc.type,
    name: doc.name,
    config: doc.config,
    credentialsUpdatedAt: doc.credentialsUpdatedAt ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export class DestinationsRepository {
  private readonly destinations: Collection<DestinationDocument>;

  constructor(db: Db) {
    this.destinations = db.collection<DestinationDocument>('destinations');
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<DestinationRecord[]> {
    const docs = await this.destinations.find({ _id: { $in: [...ids] } }, WITHOUT_CREDENTIALS).toArray();
    return docs.map(toRecord);
  }

  /** The destination with its sealed credentials, for connectors only; never for an API answer. */
  async findWithCredentials(id: string): Promise<{ destination: DestinationRecord; credentials: SealedCredentials | null } | null> {
    const doc = await this.destinations.findOne({ _id: id });
    return doc ? { destination: toRecord(doc), credentials: doc.credentials ?? null } : null;
  }

  async list(page: PageQuery, type?: DestinationType): Promise<DestinationRecord[]> {
    const filter: Filter<DestinationDocument> = {};
    if (page.after) filter._id = { $gt: page.after };
    if (type) filter.type = type;
    const docs = await this.destinations.find(filter, WITHOUT_CREDENTIALS).sort({ _id: 1 }).limit(page.limit).toArray();
    return docs.map(toRecord);
  }

  async insert(record: DestinationRecord, credentials: SealedCredentials | null): Promise<DestinationRecord> {
    const { id, ...rest } = record;
    await this.destinations.insertOne({ _id: id, ...rest, credentials });
    return record;
  }

  async update(id: string, changes: DestinationChanges, now: Date): Promise<DestinationRecord | null> {
    const set: Partial<DestinationDocument> = { updatedAt: now };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.config !== undefined) set.config = changes.config;
    if (changes.credentials !== undefined) {
      set.credentials = changes.credentials;
      set.credentialsUpdatedAt = changes.credentials ? now : null;
    }
    const doc = await this.destinations.findOneAndUpdate(
      { _id: id },
      { $set: set },
      { returnDocument: 'after', ...WITHOUT_CREDENTIALS },
    );
    return doc ? toRecord(doc) : null;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.destinations.deleteOne({ _id: id })).deletedCount === 1;
  }
}
