/**
 * The `personFragments` collection of one sandbox: what each source record says
 * about a person, kept so a profile can be recomputed under another merge policy
 * and split back into its parts.
 */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { Fragment } from './profileView.js';

type FragmentDocument = Omit<Fragment, 'id'> & { _id: string };

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

  /** One bulk write, each fragment replaced whole. */
  async write(fragments: readonly Fragment[]): Promise<void> {
    if (fragments.length === 0) return;
    await this.fragments.bulkWrite(
      fragments.map(({ id, ...rest }) => ({ replaceOne: { filter: { _id: id }, replacement: rest, upsert: true } })),
      { ordered: false },
    );
  }
}
