/** The live service bound to one request's sandbox database: what the segment context adds for subscriptions. */
import type { Db } from 'mongodb';
import type { ServiceDeps } from '../../../lib/subgraph/context.js';
import type { MembershipEventsRepository } from '../memberships/membershipEvents.repository.js';
import type { MembershipsRepository } from '../memberships/memberships.repository.js';
import type { SegmentsRepository } from '../segments.repository.js';
import { LiveMembershipEventsRepository } from './liveMembershipEvents.repository.js';
import { LiveService } from './live.service.js';

export function createLiveService(
  db: Db,
  repositories: { segments: SegmentsRepository; memberships: MembershipsRepository; events: MembershipEventsRepository },
  base: ServiceDeps,
): LiveService {
  const { segments, memberships, events } = repositories;
  return new LiveService(
    {
      findSegment: async (id) => (await segments.findByIds([id]))[0] ?? null,
      events,
      log: new LiveMembershipEventsRepository(db),
      countSize: async (segmentId) => (await memberships.countByStatus([segmentId]))[0]?.size ?? 0,
    },
    base,
  );
}
