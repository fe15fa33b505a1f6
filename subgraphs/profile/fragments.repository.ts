/**
 * The `personFragments` collection of one sandbox: what each source record says
 * about a person, kept so a profile can be recomputed under another merge policy
 * and split back into its parts.
 */
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import { ProfileVersionConflict } from './people.repository.js';
import type { Fragment } from './profileView.js';

type FragmentDocument = Omit<Fragment, 'id'> & { _id: string };

const DUPLICATE_KEY = 11000;
const ensureIndexes = oncePerKey();

function toFragment({ _id, ...rest }: FragmentDocument): Fragment {
  return { id: _id, ...rest };
}

export class FragmentsRepository {
  private readonly fragments: Collection<FragmentDocument>;

  constructor(private readonly db: Db) {
    this.fragments = db.collection<FragmentDocument>('personFragments');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () => this.fragments.createIndex({ profileId: 1 }, { name: 'profile' }));
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
   * One bulk write: fragments in `created` (the caller read them and found none)
   * are inserted, the others replaced whole. A fragment created meanwhile by
   * another writer is a conflict (its profile changed too): the caller re-reads
   * and applies the batch again, and then replaces it.
   */
  async write(fragments: readonly Fragment[], created: ReadonlySet<string> = new Set()): Promise<void> {
    if (fragments.length === 0) return;
    const operations = fragments.map(({ id, ...rest }): AnyBulkWriteOperation<FragmentDocument> =>
      created.has(id)
        ? { insertOne: { document: { _id: id, ...rest } } }
        : { replaceOne: { filter: { _id: id }, replacement: rest, upsert: true } },
    );
    try {
      await this.fragments.bulkWrite(operations, { ordered: false });
    } catch (error) {
      const errors = error instanceof MongoBulkWriteError ? error.writeErrors : [];
      const list = Array.isArray(errors) ? errors : [errors];
      if (list.length === 0 || list.some((entry) => entry.code !== DUPLICATE_KEY)) throw error;
      throw new ProfileVersionConflict(list.map((entry) => fragments[entry.index]!.profileId));
    }
  }
}
