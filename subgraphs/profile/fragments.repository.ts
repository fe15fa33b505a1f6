/**
 * The `personFragments` collection of one sandbox: what each source record says
 * about a person, kept so a profile can be recomputed under another merge policy
 * and split back into its parts.
 */
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db } from 'mongodb';
import { bytesOverLimit } from '../../lib/mongo/documentSize.js';
import { oncePerKey } from '../../lib/subgraph/once.js';
import { ProfileVersionConflict } from './people.repository.js';
import type { Fragment } from './profileView.js';

type FragmentDocument = Omit<Fragment, 'id'> & { _id: string };
type FragmentFilter = { _id: string; version?: number | { $exists: false } };

const DUPLICATE_KEY = 11000;
const ensureIndexes = oncePerKey();

function toFragment({ _id, version, ...rest }: FragmentDocument): Fragment {
  // Fragments written before versioning have none: version 0.
  return { id: _id, ...rest, version: version ?? 0 };
}

/** The fragment as read: at its version (0 matches a document stored before versioning). */
function atVersion(id: string, version: number): FragmentFilter {
  return version === 0 ? { _id: id, version: { $exists: false } } : { _id: id, version };
}

export class FragmentsRepository {
  private readonly fragments: Collection<FragmentDocument>;

  constructor(private readonly db: Db) {
    this.fragments = db.collection<FragmentDocument>('personFragments');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () => this.fragments.createIndex({ profileId: 1 }, { name: 'profile' }));
  }

  /** The size of the document `write` would store for this fragment, in BSON bytes, when it is over `limit`; else null. */
  static bytesOver({ id, version, ...rest }: Fragment, limit: number): number | null {
    return bytesOverLimit({ _id: id, ...rest, version: (version ?? 0) + 1 }, limit);
  }

  async findByIds(ids: readonly string[]): Promise<Fragment[]> {
    if (ids.length === 0) return [];
    return (await this.fragments.find({ _id: { $in: [...ids] } }).toArray()).map(toFragment);
  }

  async findByProfileIds(profileIds: readonly string[]): Promise<Fragment[]> {
    if (profileIds.length === 0) return [];
    return (await this.fragments.find({ profileId: { $in: [...profileIds] } }).toArray()).map(toFragment);
  }

  /**
   * One bulk write. Fragments never stored (no `version`) are inserted at version 1;
   * stored ones are replaced only at the version they were read at, and go up by one.
   * A fragment another writer created or changed meanwhile (the same source record,
   * sent twice at once) is a conflict: the caller re-reads and applies its batch
   * again, on top of what the other writer stored.
   */
  async write(fragments: readonly Fragment[]): Promise<void> {
    if (fragments.length === 0) return;
    const operations = fragments.map(({ id, version, ...rest }): AnyBulkWriteOperation<FragmentDocument> =>
      version === undefined
        ? { insertOne: { document: { _id: id, ...rest, version: 1 } } }
        : { replaceOne: { filter: atVersion(id, version), replacement: { ...rest, version: version + 1 } } },
    );
    const replaced = fragments.filter((fragment) => fragment.version !== undefined);
    let matched: number;
    try {
      matched = (await this.fragments.bulkWrite(operations, { ordered: false })).matchedCount;
    } catch (error) {
      const errors = error instanceof MongoBulkWriteError ? error.writeErrors : [];
      const list = Array.isArray(errors) ? errors : [errors];
      if (list.length === 0 || list.some((entry) => entry.code !== DUPLICATE_KEY)) throw error;
      throw new ProfileVersionConflict(list.map((entry) => fragments[entry.index]!.profileId));
    }
    if (matched !== replaced.length) throw new ProfileVersionConflict(replaced.map((fragment) => fragment.profileId));
  }
}
