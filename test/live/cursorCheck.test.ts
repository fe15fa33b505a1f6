/** Checking a resume cursor against the retained log, while events are being appended. */
import { describe, expect, it } from 'vitest';
import { LiveService, type LiveServiceDeps } from '../../subgraphs/segment/live/live.service.js';
import { encodeCursor } from '../../subgraphs/segment/live/cursor.js';
import type { MembershipEventRecord } from '../../subgraphs/segment/memberships/membershipEvents.repository.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';

const SEGMENT = { id: 'seg-1', name: 'VPs' };

function event(position: number): MembershipEventRecord {
  return { position, segmentId: SEGMENT.id, memberId: `p${position}`, memberType: 'PERSON', status: 'realized', occurredAt: new Date(), cause: { kind: 'batch', runId: 'r1' } } as MembershipEventRecord;
}

/**
 * A log that is empty until the counter is read, and the moment it is read an
 * append lands (stored, then published): what a subscriber resuming from a
 * current cursor meets while an evaluator writes.
 */
function logWithAppendDuringCheck(): LiveServiceDeps {
  const stored: MembershipEventRecord[] = [];
  return {
    findSegment: async () => SEGMENT as never,
    events: {
      after: async (position, options) => stored.filter((e) => e.position > position).slice(0, options.limit),
      lastPosition: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        stored.push(event(1));
        return 1;
      },
    },
    log: { join: async () => ({ watermark: () => 1, leave: () => {} }) },
    countSize: async () => 0,
  };
}

describe('resume cursor check', () => {
  it('does not take a current cursor for an expired one when an event is appended during the check', async () => {
    const service = new LiveService(logWithAppendDuringCheck(), { now: () => new Date() } as ServiceDeps);
    const changes = await service.membershipChanges(SEGMENT.id, encodeCursor(0));
    const first = await changes.next();
    expect(first.done).toBe(false);
    expect((first.value as { position: number }).position).toBe(1);
    await changes.return();
  });
});
