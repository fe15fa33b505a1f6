/** The `profileSettings` collection of one sandbox: its merge policy. */
import type { Collection, Db } from 'mongodb';
import { DEFAULT_MERGE_POLICY, type MergePolicy } from './profileView.js';

interface MergePolicyDocument extends Omit<MergePolicy, 'version'> {
  _id: 'mergePolicy';
  /** Absent on a policy stored before versions: version 0, under which every view stored then was computed. */
  version?: number;
}

const toPolicy = (doc: MergePolicyDocument): MergePolicy => ({
  kind: doc.kind,
  sourcePriority: doc.sourcePriority,
  updatedAt: doc.updatedAt,
  version: doc.version ?? 0,
});

export class SettingsRepository {
  private readonly settings: Collection<MergePolicyDocument>;

  constructor(db: Db) {
    this.settings = db.collection<MergePolicyDocument>('profileSettings');
  }

  async mergePolicy(): Promise<MergePolicy> {
    const doc = await this.settings.findOne({ _id: 'mergePolicy' });
    return doc ? toPolicy(doc) : DEFAULT_MERGE_POLICY;
  }

  /** Stores the policy under the next version (one atomic update, so two admins never share one); answers it as stored. */
  async setMergePolicy(policy: Omit<MergePolicy, 'version'>): Promise<MergePolicy> {
    const doc = await this.settings.findOneAndUpdate(
      { _id: 'mergePolicy' },
      { $set: { kind: policy.kind, sourcePriority: policy.sourcePriority, updatedAt: policy.updatedAt }, $inc: { version: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!doc) throw new Error('The merge policy was not stored');
    return toPolicy(doc);
  }
}
