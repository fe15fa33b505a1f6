/**
 * The merge policy recompute job: runs one run (mergePolicyRun.ts) on a worker. A killed
 * worker's job is taken up by another worker once its lock expires, and the run resumes
 * after its last finished page; the lock is extended as pages finish. An unexpected error
 * (a database outage) is retried a few times before the run is marked FAILED; profiles stay
 * right meanwhile (readers compute stale ones with the current policy).
 */
import { lockRenewal, type JobDependencies, type JobModule } from '../../../lib/jobs.js';
import { FragmentsRepository } from '../fragments.repository.js';
import { runMergePolicyRecompute } from './mergePolicyRun.js';
import { MergePolicyRunsRepository } from './mergePolicyRuns.repository.js';
import { MERGE_POLICY_JOB_NAME, type MergePolicyJobPayload } from './mergePolicyScheduler.js';
import { PeopleRepository } from '../people.repository.js';
import { SettingsRepository } from '../settings.repository.js';

export { MERGE_POLICY_JOB_NAME, type MergePolicyJobPayload };

export const MAX_ATTEMPTS = 4;

export interface MergePolicyJobOptions {
  /** Longer than any page takes; extended as pages finish. */
  lockLifetimeMs?: number;
  pageSize?: number;
  /** After each finished page (tests stop a worker here). */
  afterPage?: (page: { sandbox: string; runId: string; pagesDone: number }) => Promise<void>;
}

export function createMergePolicyJob(options: MergePolicyJobOptions = {}): JobModule {
  const lockLifetimeMs = options.lockLifetimeMs ?? 5 * 60_000;
  return {
    name: MERGE_POLICY_JOB_NAME,
    define(agenda, deps: JobDependencies) {
      agenda.define<MergePolicyJobPayload>(
        MERGE_POLICY_JOB_NAME,
        async (job) => {
          const { sandbox, runId } = job.attrs.data;
          const db = deps.databases.sandbox(sandbox);
          const logger = deps.logger.child({ job: MERGE_POLICY_JOB_NAME, sandbox, runId });
          const runs = new MergePolicyRunsRepository(db);
          const renewLock = lockRenewal(job, lockLifetimeMs);
          try {
            await runMergePolicyRecompute(runId, {
              people: new PeopleRepository(db),
              fragments: new FragmentsRepository(db),
              settings: new SettingsRepository(db),
              runs,
              logger,
              now: deps.now,
              pageSize: options.pageSize,
              onPage: async ({ pagesDone }) => {
                await renewLock();
                await options.afterPage?.({ sandbox, runId, pagesDone });
              },
            });
          } catch (error) {
            const attempt = (job.attrs.failCount ?? 0) + 1;
            if (attempt < MAX_ATTEMPTS) throw error;
            logger.error({ err: error, attempt }, 'Merge policy run failed');
            await runs.finish(runId, 'FAILED', deps.now(), 'The recompute failed repeatedly; set the merge policy again to start a new run');
          }
        },
        { concurrency: 2, lockLifetime: lockLifetimeMs, backoff: ({ attempt }) => (attempt < MAX_ATTEMPTS ? 5_000 * attempt : null) },
      );
    },
  };
}

/** The job as the worker registers it. */
export const mergePolicyJob: JobModule = createMergePolicyJob();
