/** Per-request loaders of the segment subgraph: one `$in` query per batch, results in key order. */
import DataLoader from 'dataloader';
import { createByIdLoader, MAX_BATCH_SIZE } from '../../lib/subgraph/loaders.js';
import type { MembershipStatus } from './memberships.layout.js';
import type { MembershipRecord, MembershipsRepository, StatusCounts } from './memberships/memberships.repository.js';
import type { SegmentEvaluationRecord, SegmentEvaluationsRepository } from './memberships/segmentEvaluations.repository.js';
import type { SegmentRecord, SegmentsRepository } from './segments.repository.js';

export interface SegmentLoaders {
  segmentById: DataLoader<string, SegmentRecord | null>;
  /** These segments through `segmentById`, in order, leaving out any that no longer exist. */
  existingSegments(ids: readonly string[]): Promise<SegmentRecord[]>;
  /** Segments using each segment with `inSegment`. */
  usersBySegmentId: DataLoader<string, SegmentRecord[]>;
  countsBySegmentId: DataLoader<string, StatusCounts>;
  lastEvaluationBySegmentId: DataLoader<string, SegmentEvaluationRecord | null>;
  /** Memberships of each member with these statuses (one loader per status set, made on first use). */
  membershipsOfMember(statuses: readonly MembershipStatus[]): DataLoader<string, MembershipRecord[]>;
}

export interface SegmentLoaderSources {
  segments: SegmentsRepository;
  memberships: MembershipsRepository;
  evaluations: SegmentEvaluationsRepository;
}

/** A loader over a fetch that already answers in key order. */
function inKeyOrder<V>(fetch: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
  return new DataLoader<string, V>((keys) => fetch(keys), { maxBatchSize: MAX_BATCH_SIZE });
}

export function createSegmentLoaders({ segments, memberships, evaluations }: SegmentLoaderSources): SegmentLoaders {
  const byStatuses = new Map<string, DataLoader<string, MembershipRecord[]>>();
  const segmentById = createByIdLoader((ids) => segments.findByIds(ids), (segment: SegmentRecord) => segment.id);
  return {
    segmentById,
    async existingSegments(ids) {
      const found = await segmentById.loadMany(ids);
      return found.filter((segment): segment is SegmentRecord => segment !== null && !(segment instanceof Error));
    },
    usersBySegmentId: inKeyOrder(async (ids) => {
      const users = await segments.findUsers(ids);
      return ids.map((id) => users.filter((user) => user.dependsOn.includes(id)));
    }),
    countsBySegmentId: inKeyOrder((ids) => memberships.countByStatus(ids)),
    lastEvaluationBySegmentId: inKeyOrder((ids) => evaluations.findBySegmentIds(ids)),
    membershipsOfMember(statuses) {
      const key = statuses.join(',');
      let loader = byStatuses.get(key);
      if (!loader) {
        loader = inKeyOrder((ids) => memberships.listForMembers(ids, statuses));
        byStatuses.set(key, loader);
      }
      return loader;
    },
  };
}
