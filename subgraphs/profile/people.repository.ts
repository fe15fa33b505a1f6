/**
 * The `people` collection of one sandbox: the merged view of every profile, as
 * segments and the GraphQL API read it. Written only through the identity graph
 * (one bulk write per batch).
 */
import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { ProfileRecord } from './profileView.js';

type ProfileDocument = Omit<ProfileRecord, 'id'> & { _id: string };

const ensureIndexes = oncePerKey();

function toRecord({ _id, ...rest }: ProfileDocument): ProfileRecord {
  return { id: _id, ...rest };
}

function toDocument({ id, ...rest }: ProfileRecord): ProfileDocument {
  return { _id: id, ...rest };
}

export class PeopleRepository {
  private readonly people: Collection<ProfileDocument>;

  constructor(private readonly db: Db) {
    this.people = db.collection<ProfileDocument>('people');
  }

  /** The sandbox database this repository is bound to. */
  get databaseName(): string {
    return this.db.databaseName;
  }

  /**
   * Identity lookups use a multikey index on `identityKeys`; absorbed ids one on
   * `absorbedIds`. Not unique: two concurrent writers may each create a profile
   * for the same new identity, and the next record touching it merges them.
   */
  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, async () => {
      await this.people.createIndex({ identityKeys: 1 }, { name: 'identity_keys' });
      await this.people.createIndex({ absorbedIds: 1 }, { name: 'absorbed_ids' });
    });
  }

  /** Profiles by id, a merged-away id finding its survivor: one query. */
  async findByIds(ids: readonly string[]): Promise<ProfileRecord[]> {
    const docs = await this.people.find({ $or: [{ _id: { $in: [...ids] } }, { absorbedIds: { $in: [...ids] } }] }).toArray();
    return docs.map(toRecord);
  }

  /** Profiles holding any of these identity keys: one query on the multikey index. */
  async findByIdentityKeys(keys: readonly string[]): Promise<ProfileRecord[]> {
    if (keys.length === 0) return [];
    return (await this.people.find({ identityKeys: { $in: [...keys] } }).toArray()).map(toRecord);
  }

  /** Profiles by their own ids only. */
  async findOwnIds(ids: readonly string[]): Promise<ProfileRecord[]> {
    if (ids.length === 0) return [];
    return (await this.people.find({ _id: { $in: [...ids] } }).toArray()).map(toRecord);
  }

  /** Which profile holds each key (ids and keys only). */
  async findOwners(keys: readonly string[]): Promise<Map<string, string>> {
    const wanted = new Set(keys);
    const owners = new Map<string, string>();
    const docs = await this.people
      .find({ identityKeys: { $in: [...keys] } }, { projection: { identityKeys: 1, createdAt: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    for (const doc of docs) for (const key of doc.identityKeys) if (wanted.has(key) && !owners.has(key)) owners.set(key, doc._id);
    return owners;
  }

  /** The oldest profile holding the key. */
  async findByIdentityKey(key: string): Promise<ProfileRecord | null> {
    const [doc] = await this.people.find({ identityKeys: key }).sort({ createdAt: 1, _id: 1 }).limit(1).toArray();
    return doc ? toRecord(doc) : null;
  }

  /** Keyset page in id (creation) order; `limit` documents at most. */
  async list(after: string | undefined, limit: number): Promise<ProfileRecord[]> {
    const filter: Filter<ProfileDocument> = after ? { _id: { $gt: after } } : {};
    const docs = await this.people.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /** One bulk write: absorbed profiles go first, then the recomputed ones are replaced whole. */
  async write(profiles: readonly ProfileRecord[], deletedIds: readonly string[]): Promise<void> {
    const operations: AnyBulkWriteOperation<ProfileDocument>[] = [
      ...deletedIds.map((id) => ({ deleteOne: { filter: { _id: id } } })),
      ...profiles.map((profile) => ({
        replaceOne: { filter: { _id: profile.id }, replacement: toDocument(profile), upsert: true },
      })),
    ];
    if (operations.length > 0) await this.people.bulkWrite(operations, { ordered: true });
  }
}
