/**
 * The merge policy sweep, every minute on one worker: a policy stored without its run, or a run
 * left QUEUED without a job (the profile subgraph crashed between the steps of setMergePolicy),
 * gets them. Run ids are derived from the policy version and jobs are unique per run, so a
 * sweep racing setMergePolicy, or another worker's sweep, still leaves one run and one job.
 */
import type { JobModule } from '../../../lib/jobs.js';
import type { Logger } from '../../../lib/logger.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import { TenancyRepository } from '../../../lib/tenancy/tenancy.repository.js';
import { mergePolicyRunId, MergePolicyRunsRepository } from './mergePolicyRuns.repository.js';
import { createMergePolicyRunScheduler, mergePolicyRunsWithoutJob, type MergePolicyRunScheduler } from './mergePolicyScheduler.js';
import { SettingsRepository } from '../settings.repository.js';

export const MERGE_POLICY_SWEEP_JOB_NAME = 'merge-policy-sweep';
/** How long a run may stay QUEUED without a job before the sweep writes one. */
export const STUCK_AFTER_MS = 60_000;
const SWEEP_BATCH = 20;

export interface MergePolicySweepDeps {
  databases: Databases;
  logger: Logger;
  now: () => Date;
  scheduler: MergePolicyRunScheduler;
}

/** One sweep over every live sandbox; answers the runs it scheduled. A failing sandbox does not stop the others. */
export async function sweepMergePolicyRuns(deps: MergePolicySweepDeps): Promise<Array<{ sandbox: string; runId: string }>> {
  const now = deps.now();
  const scheduled: Array<{ sandbox: string; runId: string }> = [];
  for (const { _id: sandbox } of await new TenancyRepository(deps.databases.platform()).listSandboxes()) {
    try {
      const db = deps.databases.sandbox(sandbox);
      const runs = new MergePolicyRunsRepository(db);
      const policy = await new SettingsRepository(db).mergePolicy();
      if (policy.version > 0 && !(await runs.findById(mergePolicyRunId(policy.version)))) {
        // Dated long ago, so this very sweep finds it QUEUED without a job and schedules it.
        await runs.insertQueued({ policyVersion: policy.version, policy: { kind: policy.kind, sourcePriority: policy.sourcePriority }, now: new Date(0) });
      }
      const stuck = await runs.listQueuedBefore(new Date(now.getTime() - STUCK_AFTER_MS), SWEEP_BATCH);
      for (const runId of await mergePolicyRunsWithoutJob(deps.databases, sandbox, stuck.map((run) => run.id))) {
        await deps.scheduler.schedule({ sandbox, runId });
        scheduled.push({ sandbox, runId });
      }
    } catch (error) {
      deps.logger.error({ err: error, sandbox }, 'Merge policy sweep failed for a sandbox');
    }
  }
  if (scheduled.length > 0) deps.logger.warn({ runs: scheduled }, 'Scheduled merge policy runs left without a job');
  return scheduled;
}

export const mergePolicySweepJob: JobModule = {
  name: MERGE_POLICY_SWEEP_JOB_NAME,
  define(agenda, deps) {
    const logger = deps.logger.child({ job: MERGE_POLICY_SWEEP_JOB_NAME });
    const scheduler = createMergePolicyRunScheduler(deps.databases);
    agenda.define(MERGE_POLICY_SWEEP_JOB_NAME, async () => {
      await sweepMergePolicyRuns({ databases: deps.databases, logger, now: deps.now, scheduler });
    });
    // One repeating job for all workers (Agenda keeps a single job per `every` name).
    agenda.ready
      .then(() => agenda.every('1 minute', MERGE_POLICY_SWEEP_JOB_NAME))
      .catch((error: unknown) => logger.error({ err: error }, 'Could not schedule the merge policy sweep'));
  },
};
