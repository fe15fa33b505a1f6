/**
 * Reading memberships: a segment's members page by page, its size and last
 * evaluation, a member's history in a segment, and a profile's or account's
 * memberships. Memberships are written only by evaluation
 * (`memberships/memberships.repository.ts`); any role reads them.
 */
import { parsePageArgs } from '../../lib/subgraph/pagination.js';
import type { SegmentLoaders } from './loaders.js';
import { CURRENT_STATUSES, type MemberType, type MembershipStatus } from './memberships.layout.js';
import type { MembershipEventRecord, MembershipEventsRepository } from './memberships/membershipEvents.repository.js';
import { lastQualificationTime, type MembershipRecord, type MembershipsRepository } from './memberships/memberships.repository.js';
import type { SegmentEvaluationRecord } from './memberships/segmentEvaluations.repository.js';
import type { SegmentRecord } from './segments.repository.js';

export interface MembersArgs {
  /** Internal values (the GraphQL enum maps REALIZED to 'realized' and so on). */
  status?: MembershipStatus[] | null;
  first?: number | null;
  after?: string | null;
}

export interface SegmentMemberConnection {
  nodes: MembershipRecord[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** Called by GraphQL only when the field is selected. */
  totalCount: () => Promise<number>;
}

/** A membership as `Profile.segmentMemberships` and `Account.audienceMemberships` show it, with its segment. */
export interface MembershipWithSegment {
  membership: MembershipRecord;
  segment: SegmentRecord;
}

/** The statuses asked for, current ones by default, sorted so equal requests share a loader. */
function statusesOf(status: readonly MembershipStatus[] | null | undefined): MembershipStatus[] {
  return [...new Set(status && status.length > 0 ? status : CURRENT_STATUSES)].sort();
}

export class MembershipService {
  constructor(
    private readonly memberships: MembershipsRepository,
    private readonly events: MembershipEventsRepository,
    private readonly loaders: SegmentLoaders,
  ) {}

  async members(segment: SegmentRecord, args: MembersArgs): Promise<SegmentMemberConnection> {
    const page = parsePageArgs(args);
    const statuses = statusesOf(args.status);
    const rows = await this.memberships.pageOfSegment(segment.id, { statuses, limit: page.limit + 1, after: page.after });
    const nodes = rows.slice(0, page.limit);
    return {
      nodes,
      pageInfo: { hasNextPage: rows.length > page.limit, endCursor: nodes.at(-1)?.memberId ?? null },
      totalCount: async () => {
        const counts = await this.loaders.countsBySegmentId.load(segment.id);
        return statuses.reduce((sum, status) => sum + counts[status], 0);
      },
    };
  }

  async size(segment: SegmentRecord): Promise<number> {
    return (await this.loaders.countsBySegmentId.load(segment.id)).size;
  }

  lastEvaluation(segment: SegmentRecord): Promise<SegmentEvaluationRecord | null> {
    return this.loaders.lastEvaluationBySegmentId.load(segment.id);
  }

  /** When the member last qualified: a current member qualified at its segment's latest evaluation too. */
  async lastQualificationTime(membership: MembershipRecord): Promise<Date> {
    const evaluation = await this.loaders.lastEvaluationBySegmentId.load(membership.segmentId);
    return lastQualificationTime(membership, evaluation?.evaluationTime ?? null);
  }

  history(segment: SegmentRecord, memberId: string): Promise<MembershipEventRecord[]> {
    return this.events.history(segment.id, memberId);
  }

  /**
   * A profile's or account's memberships with the given statuses (current ones by default),
   * batched per request; memberships of a segment deleted meanwhile are left out.
   */
  async ofMember(memberId: string, memberType: MemberType, status?: MembershipStatus[] | null): Promise<MembershipWithSegment[]> {
    const memberships = await this.loaders.membershipsOfMember(statusesOf(status)).load(memberId);
    const mine = memberships.filter((membership) => membership.memberType === memberType);
    const segments = await this.loaders.segmentById.loadMany(mine.map((membership) => membership.segmentId));
    const found: MembershipWithSegment[] = [];
    mine.forEach((membership, index) => {
      const segment = segments[index];
      if (segment && !(segment instanceof Error)) found.push({ membership, segment });
    });
    return found;
  }
}
