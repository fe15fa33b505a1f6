/**
 * What the streaming evaluator stores, and where:
 * - `streamingLeases` (platform database): per sandbox, the lease (one worker at a time
 *   evaluates a sandbox's changes; each claim increments `epoch`, the fencing token) and the
 *   evaluation's state: the resume token, the batch in flight, pending full passes and the
 *   status the API shows. Every write names the epoch of the lease its writer holds.
 * - `streamingWakeUps` (each sandbox database): per (segment, member) whose result depends on a
 *   time window, the next instant it can change, indexed by time.
 */
import type { TargetEntity } from '../language/index.js';

export const STREAMING_LEASES_COLLECTION = 'streamingLeases';
export const STREAMING_WAKE_UPS_COLLECTION = 'streamingWakeUps';

/** The prefix of the `runId` streaming stamps on the memberships it changes. */
export const STREAM_RUN_PREFIX = 'stream:';
export const streamRunId = (batchId: string): string => `${STREAM_RUN_PREFIX}${batchId}`;

/** Why members are re-evaluated; the batch id is added when their events are written. */
export type StreamCause =
  | { kind: 'change'; collection: string; operation: string; documentId: string | null }
  | { kind: 'wakeUp'; dueAt: Date };

/** A member to re-evaluate, for every streaming segment of its target or only some of them. */
export interface AffectedMember {
  id: string;
  target: TargetEntity;
  cause: StreamCause;
  /** Segment ids to evaluate; null means every segment of the target. */
  segmentIds: readonly string[] | null;
}

/** A batch whose membership writes may have started: its events are written again after a crash. */
export interface InFlightBatch {
  batchId: string;
  members: Array<{ id: string; target: TargetEntity; cause: StreamCause }>;
}

/** A pass over every member of a target for some segments (a new or changed definition), resumable. */
export interface PendingPass {
  target: TargetEntity;
  /** Null: every segment of the target (the first start on a sandbox). */
  segmentIds: string[] | null;
  /** The last member id done; null before the first page. */
  after: string | null;
  /** When it was queued (wall clock): until it ends, the evaluation is at least this far behind. */
  since: Date;
}

/** What the evaluator knows of how far behind it is, per sandbox (`streamingStatus`). */
export interface StreamingStatus {
  /** How old the oldest change of the latest batch was when the batch was written, or at least the age of a pass still running; 0 when idle. */
  lagMs: number;
  /** Changes read from the stream and not evaluated yet (a lower bound while it falls behind). */
  pendingChanges: number;
  /** When the latest change it evaluated happened (the database's wall time). */
  lastChangeAt: Date | null;
}
