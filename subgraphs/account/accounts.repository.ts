/** The `accounts` collection of one sandbox. */
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db, type Filter } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { PageQuery } from '../../lib/subgraph/pagination.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';

export interface AccountFields {
  name?: string;
  domain?: string;
  industry?: string;
  annualRevenue?: number;
  employees?: number;
  country?: string;
  type?: string;
  parentId?: string;
  sourceUpdatedAt?: Date;
}

export interface AccountRecord extends AccountFields {
  id: string;
  name: string;
  attributes?: JsonObject;
  sourceKeys: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface AccountDocument extends AccountFields {
  _id: string;
  name: string;
  attributes?: JsonObject;
  /** Absent rather than empty: the unique sparse index would treat two empty lists as equal. */
  sourceKeys?: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** One record's write after a batch was planned: the fields its inputs set, attributes by key, new source keys. */
export interface SourcedWrite<F> {
  id: string;
  create: boolean;
  set: F;
  attributes: JsonObject;
  addSourceKeys: string[];
  now: Date;
}

export type AccountWrite = SourcedWrite<AccountFields>;

const ensureIndexes = oncePerKey();

export function toAccountRecord({ _id, sourceKeys, ...rest }: AccountDocument): AccountRecord {
  return { id: _id, sourceKeys: sourceKeys ?? [], ...rest };
}

/**
 * Records of a source-keyed collection with one of these ids or source keys: one `$in`
 * query per list, side by side, rather than one `$or` (an `$or` of two indexed clauses
 * is a collection scan on devdb, so a batch's read grew with the collection).
 */
export async function findSourcedRecords<D extends { _id: string; sourceKeys?: string[] }>(
  collection: Collection<D>,
  ids: readonly string[],
  sourceKeys: readonly string[],
): Promise<D[]> {
  const [byId, byKey] = await Promise.all([
    ids.length > 0 ? collection.find({ _id: { $in: [...ids] } } as Filter<D>).toArray() : [],
    sourceKeys.length > 0 ? collection.find({ sourceKeys: { $in: [...sourceKeys] } } as Filter<D>).toArray() : [],
  ]);
  const seen = new Set(byId.map((doc) => doc._id));
  return [...byId, ...byKey.filter((doc) => !seen.has(doc._id))] as D[];
}

/**
 * Writes a planned batch of source-keyed records (accounts, opportunities) with one bulkWrite.
 * Returns the indexes of writes refused because another request created one of their source
 * keys meanwhile (unique index); the rest are written.
 */
export async function saveSourcedRecords<D extends { _id: string }, F extends object>(
  collection: Collection<D>,
  writes: readonly SourcedWrite<F>[],
): Promise<Set<number>> {
  if (writes.length === 0) return new Set();
  const operations = writes.map((write) => {
    // Attributes are set key by key; the JSON scalar guarantees keys without `$` or `.`.
    const set: Record<string, unknown> = { ...write.set, updatedAt: write.now };
    for (const [key, value] of Object.entries(write.attributes)) set[`attributes.${key}`] = value;
    const update: Record<string, unknown> = { $set: set };
    if (write.addSourceKeys.length > 0) update.$addToSet = { sourceKeys: { $each: write.addSourceKeys } };
    if (write.create) update.$setOnInsert = { createdAt: write.now };
    return { updateOne: { filter: { _id: write.id }, update, upsert: write.create } } as AnyBulkWriteOperation<D>;
  });
  try {
    await collection.bulkWrite(operations, { ordered: false });
    return new Set();
  } catch (error) {
    if (error instanceof MongoBulkWriteError) {
      const failures = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      if (failures.every((failure) => failure.code === 11000)) return new Set(failures.map((failure) => failure.index));
    }
    throw error;
  }
}

export class AccountsRepository {
  private readonly accounts: Collection<AccountDocument>;

  constructor(private readonly db: Db) {
    this.accounts = db.collection<AccountDocument>('accounts');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, async () => {
      // A source key belongs to one account; accounts without source keys are not indexed.
      await this.accounts.createIndex({ sourceKeys: 1 }, { unique: true, sparse: true, name: 'sourceKeys_unique' });
      // Not unique: two sources (or two records of one source) may well share a domain.
      await this.accounts.createIndex({ domain: 1 }, { name: 'domain' });
    });
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<AccountRecord[]> {
    const docs = await this.accounts.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toAccountRecord);
  }

  /** Every account with one of these ids or source keys: two indexed `$in` queries at once. */
  async findByIdsOrSourceKeys(ids: readonly string[], sourceKeys: readonly string[]): Promise<AccountRecord[]> {
    return (await findSourcedRecords(this.accounts, ids, sourceKeys)).map(toAccountRecord);
  }

  async findBySourceKey(sourceKey: string): Promise<AccountRecord | null> {
    const doc = await this.accounts.findOne({ sourceKeys: sourceKey });
    return doc ? toAccountRecord(doc) : null;
  }

  /** `limit` accounts after the id `after`, oldest first. */
  async list(page: PageQuery): Promise<AccountRecord[]> {
    const filter: Filter<AccountDocument> = page.after ? { _id: { $gt: page.after } } : {};
    const docs = await this.accounts.find(filter).sort({ _id: 1 }).limit(page.limit).toArray();
    return docs.map(toAccountRecord);
  }

  saveAll(writes: readonly AccountWrite[]): Promise<Set<number>> {
    return saveSourcedRecords(this.accounts, writes);
  }
}
