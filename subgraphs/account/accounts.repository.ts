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
  /**
   * A date when every record behind an update carried its `sourceUpdatedAt` (the latest of them):
   * the update applies only while the stored `sourceUpdatedAt` is not later, so a newer version
   * written meanwhile by another request is never overwritten. null: some record had none.
   */
  ifNotNewerThan?: Date | null;
}

/** What a batch's bulkWrite did not write: refused by the unique index, or superseded by a newer stored version. */
export interface SaveOutcome<D> {
  /** Indexes of writes that lost a race for a new source key. */
  failed: Set<number>;
  /** Indexes of guarded updates skipped because the stored version was newer, with that version. */
  superseded: Map<number, D>;
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
 * Reports the writes refused because another request created one of their source keys meanwhile
 * (unique index), and the guarded updates a newer stored version superseded; the rest are written.
 */
export async function saveSourcedRecords<D extends { _id: string; sourceUpdatedAt?: Date }, F extends object>(
  collection: Collection<D>,
  writes: readonly SourcedWrite<F>[],
): Promise<SaveOutcome<D>> {
  const outcome: SaveOutcome<D> = { failed: new Set(), superseded: new Map() };
  if (writes.length === 0) return outcome;
  const operations = writes.map((write) => {
    if (write.create) {
      // A new id: inserted whole, the cheapest write; the unique index still refuses a source key created meanwhile.
      const document: Record<string, unknown> = { _id: write.id, ...write.set, createdAt: write.now, updatedAt: write.now };
      if (Object.keys(write.attributes).length > 0) document.attributes = write.attributes;
      if (write.addSourceKeys.length > 0) document.sourceKeys = [...new Set(write.addSourceKeys)];
      return { insertOne: { document } } as AnyBulkWriteOperation<D>;
    }
    // Attributes are set key by key; the JSON scalar guarantees keys without `$` or `.`.
    const set: Record<string, unknown> = { ...write.set, updatedAt: write.now };
    for (const [key, value] of Object.entries(write.attributes)) set[`attributes.${key}`] = value;
    const update: Record<string, unknown> = { $set: set };
    if (write.addSourceKeys.length > 0) update.$addToSet = { sourceKeys: { $each: write.addSourceKeys } };
    const filter: Record<string, unknown> = { _id: write.id };
    if (write.ifNotNewerThan instanceof Date) {
      filter.$or = [{ sourceUpdatedAt: { $lte: write.ifNotNewerThan } }, { sourceUpdatedAt: { $exists: false } }];
    }
    return { updateOne: { filter, update } } as AnyBulkWriteOperation<D>;
  });
  const updates = writes.filter((write) => !write.create).length;
  let matched: number;
  try {
    matched = (await collection.bulkWrite(operations, { ordered: false })).matchedCount;
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const failures = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    if (!failures.every((failure) => failure.code === 11000)) throw error;
    for (const failure of failures) outcome.failed.add(failure.index);
    matched = error.result.matchedCount;
  }
  // Rare: only when another request stored a newer version between this batch's read and its write.
  if (matched < updates) {
    const guarded = writes.flatMap((write, index) => (!write.create && write.ifNotNewerThan instanceof Date ? [{ write, guard: write.ifNotNewerThan, index }] : []));
    if (guarded.length > 0) {
      const stored = await collection.find({ _id: { $in: guarded.map(({ write }) => write.id) } } as Filter<D>).toArray();
      const byId = new Map<string, D>(stored.map((doc) => [doc._id as string, doc as D]));
      for (const { write, guard, index } of guarded) {
        const doc = byId.get(write.id);
        if (doc?.sourceUpdatedAt && doc.sourceUpdatedAt.getTime() > guard.getTime()) outcome.superseded.set(index, doc);
      }
    }
  }
  return outcome;
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

  async saveAll(writes: readonly AccountWrite[]): Promise<SaveOutcome<AccountRecord>> {
    const { failed, superseded } = await saveSourcedRecords(this.accounts, writes);
    return { failed, superseded: new Map([...superseded].map(([index, doc]) => [index, toAccountRecord(doc)])) };
  }
}
