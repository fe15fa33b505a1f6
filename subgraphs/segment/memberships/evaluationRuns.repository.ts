/**
 * `evaluationRuns` of one sandbox: one document per batch evaluation run, with its
 * progress while it runs and, per finished segment, the counts it found. The
 * finished segments are the run's checkpoint: a rerun of the run skips them.
 */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import { EVALUATION_RUNS_COLLECTION } from '../memberships.layout.js';

export const EVALUATION_RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type EvaluationRunStatus = (typeof EVALUATION_RUN_STATUSES)[number];

export type EvaluationTrigger = 'ON_DEMAND' | 'NIGHTLY';

/** What one segment's evaluation found in a run. */
export interface SegmentRunResult {
  segmentId: string;
  /** Members that entered in this run. */
  realized: number;
  /** Members that were in and still are. */
  existing: number;
  /** Members that left in this run. */
  exited: number;
  /** Qualifying members plus current members looked at. */
  membersEvaluated: number;
  startedAt: Date;
  finishedAt: Date;
  /** Why the segment could not be evaluated (its memberships were left unchanged); null when it was. */
  error: string | null;
}

export interface EvaluationRunRecord {
  id: string;
  status: EvaluationRunStatus;
  trigger: EvaluationTrigger;
  /** The segments asked for; null means every segment of the sandbox. */
  segmentIds: string[] | null;
  /** The evaluation time of every segment in the run (`now` in the segment language). */
  evaluationTime: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The segments in evaluation order, fixed when the run first starts. */
  plan: string[] | null;
  segmentsTotal: number;
  segmentsDone: number;
  /** Members looked at so far, across finished segments and the current one. */
  membersEvaluated: number;
  /** The segment being evaluated now. */
  currentSegmentId: string | null;
  error: string | null;
  results: SegmentRunResult[];
  /** Where the scan over one target's members stands (batch evaluation's checkpoint within a target). */
  scan?: ScanCheckpoint | null;
}

/** The counts one segment has gathered so far in a scan. */
export interface ScanCounts {
  realized: number;
  existing: number;
  exited: number;
  membersEvaluated: number;
}

/**
 * A scan's checkpoint: the pages of `target` members up to and including `afterId` are evaluated
 * and written for every segment in `counts`; `finished` when the last page is done.
 */
export interface ScanCheckpoint {
  target: 'PERSON' | 'ACCOUNT';
  afterId: string | null;
  finished: boolean;
  counts: Record<string, ScanCounts>;
}

interface RunDocument extends Omit<EvaluationRunRecord, 'id'> {
  _id: string;
  /** Members of finished segments, so progress within a redone segment is not counted twice. */
  membersDone: number;
}

const ensureIndexes = oncePerKey();
const toRecord = ({ _id, membersDone: _done, ...rest }: RunDocument): EvaluationRunRecord => ({ id: _id, ...rest });
const isDuplicateKey = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

export class EvaluationRunsRepository {
  private readonly runs: Collection<RunDocument>;

  constructor(private readonly db: Db) {
    this.runs = db.collection<RunDocument>(EVALUATION_RUNS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      Promise.all([
        this.runs.createIndex({ createdAt: -1 }, { name: 'createdAt' }),
        this.runs.createIndex({ status: 1, createdAt: 1 }, { name: 'status_createdAt' }),
      ]),
    );
  }

  /** Inserts a QUEUED run; false when a run with that id exists already (it is left as it is). */
  async insertQueued(run: { id: string; trigger: EvaluationTrigger; segmentIds: string[] | null; evaluationTime: Date; createdAt: Date }): Promise<boolean> {
    try {
      await this.runs.insertOne({
        _id: run.id,
        status: 'QUEUED',
        trigger: run.trigger,
        segmentIds: run.segmentIds,
        evaluationTime: run.evaluationTime,
        createdAt: run.createdAt,
        startedAt: null,
        finishedAt: null,
        plan: null,
        segmentsTotal: run.segmentIds?.length ?? 0,
        segmentsDone: 0,
        membersEvaluated: 0,
        membersDone: 0,
        currentSegmentId: null,
        error: null,
        results: [],
      });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async findById(id: string): Promise<EvaluationRunRecord | null> {
    const doc = await this.runs.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  /** One `$in` query; results in the order of `ids`, null for a miss. */
  async findByIds(ids: readonly string[]): Promise<Array<EvaluationRunRecord | null>> {
    const docs = await this.runs.find({ _id: { $in: [...new Set(ids)] } }).toArray();
    const byId = new Map(docs.map((doc) => [doc._id, toRecord(doc)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The most recent runs first. */
  async listRecent(limit: number): Promise<EvaluationRunRecord[]> {
    const docs = await this.runs.find({}).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /** Runs QUEUED since before `before`, oldest first (the sweep checks that each has a job). */
  async listQueuedBefore(before: Date, limit: number): Promise<EvaluationRunRecord[]> {
    const docs = await this.runs.find({ status: 'QUEUED', createdAt: { $lt: before } }).sort({ createdAt: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /**
   * Marks the run RUNNING. The plan is fixed by the first start only; a restarted run keeps it,
   * with its finished segments. Returns the run as stored.
   */
  async start(id: string, plan: readonly string[], at: Date): Promise<EvaluationRunRecord | null> {
    await this.runs.updateOne(
      { _id: id, plan: null },
      { $set: { plan: [...plan], segmentsTotal: plan.length, startedAt: at } },
    );
    const doc = await this.runs.findOneAndUpdate(
      { _id: id, status: { $in: ['QUEUED', 'RUNNING'] } },
      { $set: { status: 'RUNNING' } },
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }

  /** Progress within the current segment (members looked at so far in it). */
  async progress(id: string, segmentId: string, membersInSegment: number): Promise<void> {
    await this.runs.updateOne({ _id: id }, [
      { $set: { currentSegmentId: segmentId, membersEvaluated: { $add: ['$membersDone', membersInSegment] } } },
    ]);
  }

  /** Saves a scan's checkpoint and the members looked at so far (finished segments' and the scan's). */
  async saveScan(id: string, scan: ScanCheckpoint, membersInScan: number): Promise<void> {
    await this.runs.updateOne({ _id: id }, [
      { $set: { scan: { $literal: scan }, currentSegmentId: null, membersEvaluated: { $add: ['$membersDone', membersInScan] } } },
    ]);
  }

  /** Checkpoint: one segment is finished (recorded once, even if a rerun finishes it again). */
  async completeSegment(id: string, result: SegmentRunResult): Promise<void> {
    await this.runs.updateOne({ _id: id, 'results.segmentId': { $ne: result.segmentId } }, [
      {
        $set: {
          // $literal: a string in the result (an error message) must not be read as a field path.
          results: { $concatArrays: ['$results', [{ $literal: result }]] },
          segmentsDone: { $add: ['$segmentsDone', 1] },
          membersDone: { $add: ['$membersDone', result.membersEvaluated] },
          membersEvaluated: { $add: ['$membersDone', result.membersEvaluated] },
          currentSegmentId: null,
        },
      },
    ]);
  }

  async finish(id: string, outcome: { status: 'SUCCEEDED' | 'FAILED'; at: Date; error: string | null }): Promise<void> {
    await this.runs.updateOne(
      { _id: id, status: { $in: ['QUEUED', 'RUNNING'] } },
      { $set: { status: outcome.status, finishedAt: outcome.at, error: outcome.error, currentSegmentId: null } },
    );
  }
}
