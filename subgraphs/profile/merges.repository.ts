/** The `profileMerges` collection of one sandbox: every merge, so it can be explained and undone. */
import type { Collection, Db, Filter } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { MergeRecord } from './identityGraph.js';

type MergeDocument = Omit<MergeRecord, 'id'> & { _id: string };

const ensureIndexes = oncePerKey();

function toRecord({ _id, ...rest }: MergeDocument): MergeRecord {
  return { id: _id, ...rest };
}

export class MergesRepository {
  private readonly merges: Collection<MergeDocument>;

  constructor(private readonly db: Db) {
    this.merges = db.collection<MergeDocument>('profileMerges');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () => this.merges.createIndex({ survivorId: 1, mergedAt: 1 }, { name: 'survivor' }));
  }

  async insert(merges: readonly MergeRecord[]): Promise<void> {
    if (merges.length === 0) return;
    await this.merges.insertMany(merges.map(({ id, ...rest }) => ({ _id: id, ...rest })));
  }

  /** Merges whose survivor is one of these ids, oldest first. */
  async findBySurvivors(survivorIds: readonly string[]): Promise<MergeRecord[]> {
    const docs = await this.merges
      .find({ survivorId: { $in: [...survivorIds] } })
      .sort({ mergedAt: 1, _id: 1 })
      .toArray();
    return docs.map(toRecord);
  }

  /** A page of those merges, oldest first, after the merge `after` names (its time and id); `limit` at most. */
  async page(survivorIds: readonly string[], after: { mergedAt: Date; id: string } | undefined, limit: number): Promise<MergeRecord[]> {
    const filter: Filter<MergeDocument> = { survivorId: { $in: [...survivorIds] } };
    if (after) filter.$or = [{ mergedAt: { $gt: after.mergedAt } }, { mergedAt: after.mergedAt, _id: { $gt: after.id } }];
    const docs = await this.merges.find(filter).sort({ mergedAt: 1, _id: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  async markUnmerged(id: string, at: Date): Promise<void> {
    await this.merges.updateOne({ _id: id }, { $set: { unmergedAt: at } });
  }
}
