/**
 * Runs a segment's pipeline (`evaluation/pipeline.ts`) on one sandbox database for
 * a preview: the count, a sample and, for an edit, how many qualifying members are
 * not current members yet, all in one aggregation inside the database. Nothing is
 * written, and no list of member ids is brought into this process.
 */
import type { Db, Document } from 'mongodb';
import { CURRENT_STATUSES, MEMBERSHIPS_COLLECTION } from './memberships.layout.js';

/** What the preview asks of the database; `collectionName` and `pipeline` come from `buildSegmentPipeline`. */
export interface SegmentQuery {
  collectionName: string;
  pipeline: Document[];
}

export interface PreviewCounts {
  /** How many members qualify. */
  size: number;
  /** The first qualifying member ids, in id order. */
  sampleIds: string[];
  /** With `comparedWith`: how many qualifying members are not current members of that segment. */
  entering: number | null;
}

/** A preview runs in the request; past this the database gives up on it rather than hold a core. */
export const PREVIEW_MAX_TIME_MS = 120_000;

interface FacetRow {
  size: Array<{ n: number }>;
  sample: Array<{ _id: string }>;
  entering?: Array<{ n: number }>;
}

export class SegmentQueryRepository {
  constructor(private readonly db: Db) {}

  async preview(query: SegmentQuery, options: { sampleSize: number; comparedWith?: string }): Promise<PreviewCounts> {
    const facets: Record<string, Document[]> = {
      size: [{ $count: 'n' }],
      sample: [{ $limit: options.sampleSize }, { $project: { _id: 1 } }],
    };
    if (options.comparedWith !== undefined) {
      // A membership's _id is `<segmentId>:<memberId>` (memberships.layout.ts): one indexed point lookup per member.
      facets.entering = [
        { $project: { membershipId: { $concat: [`${options.comparedWith}:`, '$_id'] } } },
        { $lookup: { from: MEMBERSHIPS_COLLECTION, localField: 'membershipId', foreignField: '_id', as: 'membership' } },
        { $match: { 'membership.status': { $nin: [...CURRENT_STATUSES] } } },
        { $count: 'n' },
      ];
    }
    const [row] = await this.db
      .collection(query.collectionName)
      .aggregate<FacetRow>([...query.pipeline, { $facet: facets }], { maxTimeMS: PREVIEW_MAX_TIME_MS })
      .toArray();
    return {
      size: row?.size[0]?.n ?? 0,
      sampleIds: (row?.sample ?? []).map((doc) => doc._id),
      entering: options.comparedWith === undefined ? null : (row?.entering?.[0]?.n ?? 0),
    };
  }
}
