/**
 * Schedules merge policy recompute runs from the profile subgraph's process: the job lands
 * in the worker's Agenda collection, where any worker picks it up. One job per
 * (sandbox, run), so setting the policy again, retrying or sweeping leaves one job.
 */
import { runsWithoutJob, scheduleRunJob, type RunJobKind } from '../../../lib/jobs.js';
import type { Databases } from '../../../lib/mongo/databases.js';

export const MERGE_POLICY_JOB_NAME = 'merge-policy-recompute';

const MERGE_POLICY_JOB: RunJobKind = { name: MERGE_POLICY_JOB_NAME, idField: 'runId' };

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
    schedule: (payload) => scheduleRunJob(databases, MERGE_POLICY_JOB, { ...payload }),
  };
}

/** Of these runs of `sandbox`, those with no merge policy job (waiting, running or done). */
export function mergePolicyRunsWithoutJob(databases: Databases, sandbox: string, runIds: readonly string[]): Promise<string[]> {
  return runsWithoutJob(databases, MERGE_POLICY_JOB, sandbox, runIds);
}
