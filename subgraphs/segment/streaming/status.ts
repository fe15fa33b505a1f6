/**
 * What the API shows of streaming evaluation in a sandbox: whether a worker holds the
 * sandbox's streaming lease now, and how far behind its evaluation is.
 */
import type { Db } from 'mongodb';
import type { StreamingStatus } from './layout.js';
import { PartitionsRepository } from './partitions.repository.js';

export interface StreamingView extends StreamingStatus {
  /** Whether a streaming evaluator holds an unexpired lease on the sandbox. */
  live: boolean;
}

/** The sandbox's streaming status as of `now` (read from the platform database); not live before any worker claimed it. */
export async function readStreamingStatus(platformDb: Db, sandbox: string, now: Date): Promise<StreamingView> {
  const partition = await new PartitionsRepository(platformDb).read(sandbox);
  if (!partition) return { live: false, lagMs: 0, pendingChanges: 0, lastChangeAt: null };
  const live = partition.owner !== null && partition.expiresAt.getTime() > now.getTime();
  return { live, ...partition.status };
}
