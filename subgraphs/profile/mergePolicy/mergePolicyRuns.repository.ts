/**
 * The `mergePolicyRuns` collection of one sandbox: one document per merge policy version
 * set (id `mpr_<version>`), with the recompute run's status, its progress and the
 * checkpoint (`afterId`, the last profile id of the last finished page) a resumed run
 * continues from. Written by `setMergePolicy` (QUEUED) and by the run's job.
 */
import type { Collection, Db } from 'mongodb';
import type { MergePolicyKind } from '../profileView.js';

export const MERGE_POLICY_RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SUPERSEDED'] as const;
export type MergePolicyRunStatus = (typeof MERGE_POLICY_RUN_STATUSES)[number];

export interface MergePolicyRunRecord {
  id: string;
  /** The policy version this run brings every profile under. */
  policyVersion: number;
  policy: { kind: MergePolicyKind; sourcePriority: string[] };
  status: MergePolicyRunStatus;
  /** Profiles when the run started (profiles created since may make `profilesDone` pass it before the end). */
  profilesTotal: number;
  /** Profiles of the pages finished so far. */
  profilesDone: number;
  /** Of those, profiles whose view changed under the new policy. */
  profilesChanged: number;
  pagesDone: number;
  /** The last profile id of the last finished page: a resumed run reads on after it. */
  afterId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  failure: string | null;
}

/** What one finished page adds to a run; stored in one write, with the checkpoint. */
export interface PageProgress {
  afterId: string;
  profiles: number;
  changed: number;
}

type RunDocument = Omit<MergePolicyRunRecord, 'id'> & { _id: string };

const toRecord = ({ _id, ...rest }: RunDocument): MergePolicyRunRecord => ({ id: _id, ...rest });

/** The run of a policy version: one per version, so setting the policy, retrying and sweeping agree on it. */
export const mergePolicyRunId = (policyVersion: number): string => `mpr_${policyVersion}`;

export class MergePolicyRunsRepository {
  private readonly runs: Collection<RunDocument>;

  constructor(db: Db) {
    this.runs = db.collection<RunDocument>('mergePolicyRuns');
  }

  /** Creates the version's run, QUEUED, unless it exists; answers it as stored. */
  async insertQueued(input: { policyVersion: number; policy: MergePolicyRunRecord['policy']; now: Date }): Promise<MergePolicyRunRecord> {
    const id = mergePolicyRunId(input.policyVersion);
    const queued: Omit<RunDocument, '_id'> = {
      policyVersion: input.policyVersion,
      policy: input.policy,
      status: 'QUEUED',
      profilesTotal: 0,
      profilesDone: 0,
      profilesChanged: 0,
      pagesDone: 0,
      afterId: null,
      createdAt: input.now,
      startedAt: null,
      finishedAt: null,
      updatedAt: input.now,
      failure: null,
    };
    const doc = await this.runs.findOneAndUpdate({ _id: id }, { $setOnInsert: queued }, { upsert: true, returnDocument: 'after' });
    if (!doc) throw new Error(`Merge policy run ${id} was not stored`);
    return toRecord(doc);
  }

  async findById(id: string): Promise<MergePolicyRunRecord | null> {
    const doc = await this.runs.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  /** QUEUED -> RUNNING with the profile count; null when the run is not QUEUED. */
  async start(id: string, profilesTotal: number, now: Date): Promise<MergePolicyRunRecord | null> {
    const doc = await this.runs.findOneAndUpdate(
      { _id: id, status: 'QUEUED' },
      { $set: { status: 'RUNNING', profilesTotal, startedAt: now, updatedAt: now } },
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }

  /** Records a finished page: the checkpoint and the counts move together, so a resumed run counts each page once. */
  async checkpoint(id: string, page: PageProgress, now: Date): Promise<void> {
    await this.runs.updateOne(
      { _id: id, status: 'RUNNING' },
      { $set: { afterId: page.afterId, updatedAt: now }, $inc: { profilesDone: page.profiles, profilesChanged: page.changed, pagesDone: 1 } },
    );
  }

  /** Profiles put under the policy after the pages (written meanwhile under the old one). */
  async addChanged(id: string, changed: number, now: Date): Promise<void> {
    if (changed === 0) return;
    await this.runs.updateOne({ _id: id, status: 'RUNNING' }, { $set: { updatedAt: now }, $inc: { profilesChanged: changed } });
  }

  /** Ends a QUEUED or RUNNING run; null when it had ended already. */
  async finish(id: string, status: 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED', now: Date, failure: string | null = null): Promise<MergePolicyRunRecord | null> {
    const doc = await this.runs.findOneAndUpdate(
      { _id: id, status: { $in: ['QUEUED', 'RUNNING'] } },
      [
        {
          $set: {
            status,
            failure,
            finishedAt: now,
            updatedAt: now,
            // Profiles created during the run are counted in it: the total ends at least at what was done.
            profilesTotal: { $max: ['$profilesTotal', '$profilesDone'] },
          },
        },
      ],
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }

  /** Ends runs of older policy versions still QUEUED or RUNNING: this run covers every profile they would have. */
  async supersedeOlder(policyVersion: number, now: Date): Promise<void> {
    await this.runs.updateMany(
      { policyVersion: { $lt: policyVersion }, status: { $in: ['QUEUED', 'RUNNING'] } },
      { $set: { status: 'SUPERSEDED', finishedAt: now, updatedAt: now } },
    );
  }

  /** Runs left QUEUED since before `before` (their job may never have been written), oldest first. */
  async listQueuedBefore(before: Date, limit: number): Promise<MergePolicyRunRecord[]> {
    const docs = await this.runs.find({ status: 'QUEUED', createdAt: { $lt: before } }).sort({ createdAt: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }
}
