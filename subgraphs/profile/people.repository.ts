/**
 * The `people` collection of one sandbox: the merged view of every profile, as
 * segments and the GraphQL API read it. Written only through the identity graph
 * and unmerge / recompute, with optimistic concurrency: every document carries a
 * `version`, and a write names the version it read, so no writer (in this process
 * or another) overwrites a profile it did not read.
 */
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db, type Filter } from 'mongodb';
import { bytesOverLimit } from '../../lib/mongo/documentSize.js';
import { oncePerKey } from '../../lib/subgraph/once.js';
import { linkKeys, type ProfileRecord } from './profileView.js';

/**
 * `linkKeys` (see `linkKeys()`) is derived from the record on every write, so the account
 * subgraph's link keys can be joined to people inside one aggregation (segments); it is not
 * part of ProfileRecord. Documents written before it existed lack it until rewritten once
 * (`addMissingLinkKeys`).
 */
type ProfileDocument = Omit<ProfileRecord, 'id' | 'version'> & { _id: string; version?: number; linkKeys?: string[] };

/** A profile as last read: its id and the version a write must still find. */
export interface ProfileVersion {
  id: string;
  version: number;
}

/** Another writer changed, created or removed one or more of these profiles (those of the refused write) after this writer read them. */
export class ProfileVersionConflict extends Error {
  constructor(readonly profileIds: readonly string[]) {
    super(`Profiles changed by another writer: ${profileIds.join(', ')}`);
    this.name = 'ProfileVersionConflict';
  }
}

const DUPLICATE_KEY = 11000;
const ensureIndexes = oncePerKey();

function toRecord({ _id, version, linkKeys: _derived, ...rest }: ProfileDocument): ProfileRecord {
  // Documents written before versioning have none: version 0; likewise policy version 0 (see ProfileRecord.policyVersion).
  return { id: _id, ...rest, version: version ?? 0, policyVersion: rest.policyVersion ?? 0 };
}

function toDocument(profile: ProfileRecord, version: number): ProfileDocument {
  const { id, version: _read, ...rest } = profile;
  return { _id: id, ...rest, linkKeys: linkKeys(profile), version };
}

/** Matches the profile only while it still has the version that was read. */
function atVersion({ id, version }: ProfileVersion): Filter<ProfileDocument> {
  return version === 0 ? { _id: id, version: { $exists: false } } : { _id: id, version };
}

/**
 * A view replaces the stored one only at the version read and never under an older merge
 * policy than the stored one's: a writer that read the policy just before it changed, and the
 * profile just after the recompute run rewrote it, is refused and retries under the new policy.
 */
function replaceable(profile: ProfileRecord & { version: number }): Filter<ProfileDocument> {
  return { ...atVersion(profile), policyVersion: { $not: { $gt: profile.policyVersion ?? 0 } } } as Filter<ProfileDocument>;
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
   * Segments join account links to people on the multikey `linkKeys` index.
   */
  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, async () => {
      await this.people.createIndex({ identityKeys: 1 }, { name: 'identity_keys' });
      await this.people.createIndex({ absorbedIds: 1 }, { name: 'absorbed_ids' });
      await this.people.createIndex({ linkKeys: 1 }, { name: 'link_keys' });
      // Profiles stored before link keys were kept get theirs once, when a process first writes here.
      while ((await this.addMissingLinkKeys()) > 0);
    });
  }

  /**
   * The one rewrite profiles stored before `linkKeys` existed need: sets it on up to
   * `limit` of them (at their version, so a concurrent writer wins); answers how many
   * were written. Run until it answers 0 (a profile another writer changed meanwhile got its
   * link keys from that write).
   */
  async addMissingLinkKeys(limit = 1_000): Promise<number> {
    const docs = await this.people.find({ linkKeys: { $exists: false } }).limit(limit).toArray();
    if (docs.length === 0) return 0;
    const result = await this.people.bulkWrite(
      docs.map((doc) => ({ updateOne: { filter: atVersion({ id: doc._id, version: doc.version ?? 0 }), update: { $set: { linkKeys: linkKeys(toRecord(doc)) } } } })),
      { ordered: false },
    );
    return result.modifiedCount;
  }

  /** The size of the document `save` would store for this profile, in BSON bytes, when it is over `limit`; else null. */
  static bytesOver(profile: ProfileRecord, limit: number): number | null {
    return bytesOverLimit(toDocument(profile, (profile.version ?? 0) + 1), limit);
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
    if (keys.length === 0) return owners;
    const docs = await this.people.find({ identityKeys: { $in: [...keys] } }, { projection: { identityKeys: 1, createdAt: 1 } }).toArray();
    // Oldest first, so a key two profiles hold goes to the older; sorted here, which spares the server an in-memory sort.
    docs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
    for (const doc of docs) for (const key of doc.identityKeys) if (wanted.has(key) && !owners.has(key)) owners.set(key, doc._id);
    return owners;
  }

  /** The oldest profile holding the key. */
  async findByIdentityKey(key: string): Promise<ProfileRecord | null> {
    const [doc] = await this.people.find({ identityKeys: key }).sort({ createdAt: 1, _id: 1 }).limit(1).toArray();
    return doc ? toRecord(doc) : null;
  }

  /** How many profiles the sandbox holds. */
  count(): Promise<number> {
    return this.people.countDocuments({});
  }

  /** Profiles computed under an older merge policy than `policyVersion`, in id order after `after`; `limit` at most. */
  async listStale(policyVersion: number, after: string | undefined, limit: number): Promise<ProfileRecord[]> {
    const stale: Filter<ProfileDocument> = { $or: [{ policyVersion: { $lt: policyVersion } }, { policyVersion: { $exists: false } }] };
    const filter: Filter<ProfileDocument> = after ? { $and: [{ _id: { $gt: after } }, stale] } : stale;
    const docs = await this.people.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /** Keyset page in id (creation) order; `limit` documents at most. */
  async list(after: string | undefined, limit: number): Promise<ProfileRecord[]> {
    const filter: Filter<ProfileDocument> = after ? { _id: { $gt: after } } : {};
    const docs = await this.people.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /**
   * One bulk write. Profiles never stored (no `version`) are inserted at version 1;
   * stored ones are replaced only at the version they were read at, and go up by
   * one. `claims` are profiles about to be removed (absorbed by a merge): their
   * version goes up too, so a writer that read them before now fails, and the
   * removal can check nobody wrote them since. Throws ProfileVersionConflict when
   * any of them no longer matches; the ones that matched are written, each a
   * complete view of what this writer read, and a retry of the batch completes the rest.
   */
  async save(profiles: readonly ProfileRecord[], claims: readonly ProfileVersion[] = []): Promise<void> {
    const operations: AnyBulkWriteOperation<ProfileDocument>[] = [
      ...profiles.map((profile): AnyBulkWriteOperation<ProfileDocument> =>
        profile.version === undefined
          ? { insertOne: { document: toDocument(profile, 1) } }
          : { replaceOne: { filter: replaceable({ ...profile, version: profile.version }), replacement: toDocument(profile, profile.version + 1) } },
      ),
      ...claims.map((claim) => ({ updateOne: { filter: atVersion(claim), update: { $set: { version: claim.version + 1 } } } })),
    ];
    if (operations.length === 0) return;
    const expected = operations.length - profiles.filter((profile) => profile.version === undefined).length;
    let matched: number;
    try {
      const result = await this.people.bulkWrite(operations, { ordered: false });
      matched = result.matchedCount;
    } catch (error) {
      // A profile id inserted twice: another writer created (or restored) it first.
      const duplicates = error instanceof MongoBulkWriteError ? error.writeErrors : [];
      const list = Array.isArray(duplicates) ? duplicates : [duplicates];
      if (list.length === 0 || list.some((entry) => entry.code !== DUPLICATE_KEY)) throw error;
      throw new ProfileVersionConflict(list.map((entry) => String((operations[entry.index] as { insertOne?: { document: ProfileDocument } }).insertOne?.document._id)));
    }
    if (matched !== expected) {
      throw new ProfileVersionConflict([...profiles.filter((profile) => profile.version !== undefined), ...claims].map((profile) => profile.id));
    }
  }

  /** Removes profiles at these versions (claimed ones: the claimed version, i.e. one more than read). */
  async remove(profiles: readonly ProfileVersion[]): Promise<void> {
    if (profiles.length === 0) return;
    const result = await this.people.bulkWrite(
      profiles.map((profile) => ({ deleteOne: { filter: atVersion(profile) } })),
      { ordered: false },
    );
    if (result.deletedCount !== profiles.length) throw new ProfileVersionConflict(profiles.map((profile) => profile.id));
  }

  /** Saves, then removes the claimed profiles: for callers with nothing to write in between. */
  async write(profiles: readonly ProfileRecord[], absorbed: readonly ProfileVersion[] = []): Promise<void> {
    await this.save(profiles, absorbed);
    await this.remove(absorbed.map(({ id, version }) => ({ id, version: version + 1 })));
  }
}
