/** A membership event, as appended to the log and as read back, and its idempotency key. */
import type { MemberType } from '../memberships.layout.js';

/**
 * Why a membership changed: a batch run; a data change the streaming evaluator saw (`collection`,
 * the operation and the changed document's id); or a time window that opened or closed (`wakeUp`,
 * at `dueAt`). Streaming causes carry the evaluator's batch, which keys their events, and no run.
 */
export type MembershipEventCause =
  | { kind: 'batch'; runId: string }
  | { kind: 'change'; batchId: string; collection: string; operation: string; documentId: string | null; runId?: undefined }
  | { kind: 'wakeUp'; batchId: string; dueAt: Date; runId?: undefined };

export type MembershipEventStatus = 'realized' | 'exited';

export interface NewMembershipEvent {
  segmentId: string;
  memberId: string;
  memberType: MemberType;
  status: MembershipEventStatus;
  occurredAt: Date;
  cause: MembershipEventCause;
}

export interface MembershipEventRecord extends NewMembershipEvent {
  position: number;
}

/** A stored event: `_id` is its idempotency key. */
export interface MembershipEventDocument extends MembershipEventRecord {
  _id: string;
}

/** An event ready to be written: keyed, not yet numbered. */
export type UnnumberedEventDocument = Omit<MembershipEventDocument, 'position'>;

/** The idempotency key of an event: one per (cause, segment, member, status). */
export function membershipEventId(event: NewMembershipEvent): string {
  switch (event.cause.kind) {
    case 'batch':
      return `batch:${event.cause.runId}:${event.segmentId}:${event.memberId}:${event.status}`;
    case 'change':
    case 'wakeUp':
      return `stream:${event.cause.batchId}:${event.segmentId}:${event.memberId}:${event.status}`;
  }
}
