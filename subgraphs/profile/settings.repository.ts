/** The `profileSettings` collection of one sandbox: its merge policy. */
import type { Collection, Db } from 'mongodb';
import { DEFAULT_MERGE_POLICY, type MergePolicy } from './profileView.js';

interface MergePolicyDocument extends MergePolicy {
  _id: 'mergePolicy';
}

export class SettingsRepository {
  private readonly settings: Collection<MergePolicyDocument>;

  constructor(db: Db) {
    this.settings = db.collection<MergePolicyDocument>('profileSettings');
  }

  async mergePolicy(): Promise<MergePolicy> {
    const doc = await this.settings.findOne({ _id: 'mergePolicy' });
    if (!doc) return DEFAULT_MERGE_POLICY;
    return { kind: doc.kind, sourcePriority: doc.sourcePriority, updatedAt: doc.updatedAt };
  }

  async setMergePolicy(policy: MergePolicy): Promise<void> {
    await this.settings.replaceOne({ _id: 'mergePolicy' }, { ...policy }, { upsert: true });
  }
}
