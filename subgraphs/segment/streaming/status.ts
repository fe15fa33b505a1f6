/**
 * What the API shows of streaming evaluation in a sandbox: whether a worker evaluates its
 * changes now (a recent heartbeat in the sandbox's streaming state) and how far behind it is.
 */
import type { Db } from 'mongodb';
import type { StreamingStatus } from './layout.js';
import { StreamingStateRepository } from './streamingState.repository.js';

/** A worker writes its heartbeat about every second; three missed leases' worth means none is running. */
export const STREAMING_LIVENESS_MS = 15_000;

export interface StreamingView extends StreamingStatus {
  /** Whether a streaming evaluator holds the sandbox now. */
  live: boolean;
}

/** The sandbox's streaming status as of `now`; not live, with nothing pending, before any worker evaluated it. */
export async function readStreamingStatus(db: Db, now: Date): Promise<StreamingView> {
  const state = await new StreamingStateRepository(db).read();
  if (!state) return { live: false, lagMs: 0, pendingChanges: 0, lastChangeAt: null };
  const live = state.heartbeatAt !== null && now.getTime() - state.heartbeatAt.getTime() <= STREAMING_LIVENESS_MS;
  return { live, ...state.status };
}
