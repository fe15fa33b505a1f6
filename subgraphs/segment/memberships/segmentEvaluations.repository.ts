/**
 * `segmentEvaluations` of one sandbox: per segment, its last evaluation's summary
 * (`Segment.lastEvaluation`), kept beside the memberships it describes so the
 * segment definitions are written only by the segment service.
 */
import type { Collection, Db } from 'mongodb';
import { SEGMENT_EVALUATIONS_COLLECTION } from '../memberships.layout.js';

export interface SegmentEvaluationRecord {
  segmentId: string;
  runId: string;
  /** The evaluation time used (`now` in the segment language); current members qualified at it. */
  evaluationTime: Date;
  startedAt: Date;
  finishedAt: Date;
  realized: number;
  existing: number;
  exited: number;
}

interface EvaluationDocument extends Omit<SegmentEvaluationRecord, 'segmentId'> {
  _id: string;
}

const toRecord = ({ _id, ...rest }: EvaluationDocument): SegmentEvaluationRecord => ({ segmentId: _id, ...rest });

export class SegmentEvaluationsRepository {
  private readonly evaluations: Collection<EvaluationDocument>;

  constructor(db: Db) {
    this.evaluations = db.collection<EvaluationDocument>(SEGMENT_EVALUATIONS_COLLECTION);
  }

  /** Replaces the segment's last evaluation, unless a later evaluation time is stored already. */
  async record(evaluation: SegmentEvaluationRecord): Promise<void> {
    const { segmentId, ...rest } = evaluation;
    await this.evaluations.replaceOne(
      { _id: segmentId, evaluationTime: { $lte: evaluation.evaluationTime } },
      rest,
      { upsert: true },
    ).catch((error: unknown) => {
      // The upsert collides with a later evaluation's document: that one stays.
      if ((error as { code?: unknown }).code !== 11000) throw error;
    });
  }

  /** One `$in` query; results in the order of `segmentIds`, null for a segment never evaluated. */
  async findBySegmentIds(segmentIds: readonly string[]): Promise<Array<SegmentEvaluationRecord | null>> {
    if (segmentIds.length === 0) return [];
    const docs = await this.evaluations.find({ _id: { $in: [...new Set(segmentIds)] } }).toArray();
    const byId = new Map(docs.map((doc) => [doc._id, toRecord(doc)]));
    return segmentIds.map((id) => byId.get(id) ?? null);
  }

  async deleteSegment(segmentId: string): Promise<void> {
    await this.evaluations.deleteOne({ _id: segmentId });
  }
}
