/**
 * Schedules merge policy recompute runs from the profile subgraph's process: the job lands
 * in the worker's Agenda collection, where any worker picks it up. One job per
 * (sandbox, run), so setting the policy again, retrying or sweeping leaves one job.
 */
import { JOBS_COLLECTION, jobWriter } from '../../../lib/jobs.js';
import type { Databases } from '../../../lib/mongo/databases.js';

export const MERGE_POLICY_JOB_NAME = 'merge-policy-recompute';

export interface MergePolicyJobPayload {
  sandbox: string;
  runId: string;
}

export interface MergePolicyRunScheduler {
  /** Idempotent per run. */
  schedule(payload: MergePolicyJobPayload): Promise<void>;
}

export function createMergePolicyRunScheduler(databases: Databases): MergePolicyRunScheduler {
  return {
    async schedule(payload) {
      const agenda = await jobWriter(databases);
      await agenda
        .create(MERGE_POLICY_JOB_NAME, payload)
        .unique({ 'data.sandbox': payload.sandbox, 'data.runId': payload.runId }, { insertOnly: true })
        .schedule(new Date())
        .save();
    },
  };
}

/** Of these runs of `sandbox`, those with no job in Agenda's collection (waiting, running or done). */
export async function runsWithoutJob(databases: Databases, sandbox: string, runIds: readonly string[]): Promise<string[]> {
  if (runIds.length === 0) return [];
  const jobs = await databases
    .platform()
    .collection(JOBS_COLLECTION)
    .find({ name: MERGE_POLICY_JOB_NAME, 'data.sandbox': sandbox, 'data.runId': { $in: [...runIds] } }, { projection: { 'data.runId': 1 } })
    .toArray();
  const scheduled = new Set(jobs.map((job) => (job.data as { runId?: unknown } | undefined)?.runId));
  return runIds.filter((id) => !scheduled.has(id));
}
