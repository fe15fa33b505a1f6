/**
 * CONTRACT: how memberships are stored in each sandbox database, owned by the
 * segment subgraph (its memberships repository is their only writer). The batch
 * pipeline reads them for `inSegment`.
 *
 * One document per (segment, member): `_id` `<segmentId>:<memberId>`, `segmentId`,
 * `memberId`, `memberType` ('PERSON' | 'ACCOUNT'), `status`, `lastQualificationTime`.
 * Segment ids never contain ':', so the memberships of one segment are the `_id`
 * range [`<segmentId>:`, `<segmentId>;`) in `memberId` order.
 */
export const MEMBERSHIPS_COLLECTION = 'segmentMemberships';

export type MembershipStatus = 'realized' | 'existing' | 'exited';

/** Statuses that mean "in the segment now". */
export const CURRENT_STATUSES: readonly MembershipStatus[] = ['realized', 'existing'];

export type MemberType = 'PERSON' | 'ACCOUNT';

export interface MembershipDocument {
  _id: string;
  segmentId: string;
  memberId: string;
  memberType: MemberType;
  status: MembershipStatus;
  /**
   * The evaluation time at which the member was last seen qualifying when its status last
   * changed. A current member qualified at every later evaluation of its segment too; see
   * `lastQualificationTime()` in `memberships/memberships.repository.ts`.
   */
  lastQualificationTime: Date;
  /** When the member last entered (realized). */
  enteredAt: Date;
  /** When the member last left; null while it is in. */
  exitedAt: Date | null;
  updatedAt: Date;
  /** Only on exited memberships: the TTL index removes the document at this time. */
  expiresAt?: Date;
  /** The evaluation run that last changed this membership: a rerun of that run leaves it alone. */
  runId: string;
}

export const membershipId = (segmentId: string, memberId: string): string => `${segmentId}:${memberId}`;

/** The append-only membership event log: one document per status change. */
export const MEMBERSHIP_EVENTS_COLLECTION = 'membershipEvents';
/** One counter document per log: the last position stored, and the lock that appends take turns through. */
export const MEMBERSHIP_EVENT_POSITIONS_COLLECTION = 'membershipEventPositions';
/** Evaluation runs (batch), with their progress and per-segment results. */
export const EVALUATION_RUNS_COLLECTION = 'evaluationRuns';
/** Per segment: its last evaluation's summary (`Segment.lastEvaluation`). */
export const SEGMENT_EVALUATIONS_COLLECTION = 'segmentEvaluations';
/** Per sandbox: the nightly evaluation schedule and the evaluation lease. */
export const SEGMENT_SETTINGS_COLLECTION = 'segmentSettings';

/** How long exited memberships are kept (CDP_EXITED_MEMBERSHIP_RETENTION_DAYS). */
export const DEFAULT_EXITED_RETENTION_DAYS = 30;
