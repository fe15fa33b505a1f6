/**
 * The evaluation sweep, every minute on one worker: for each live sandbox that has
 * segments, starts the nightly run when its schedule is due, and gives a job to
 * any run left QUEUED without one (a crash between creating a run and writing its
 * job). Every step is idempotent (a nightly run's id is derived from its due
 * time, jobs are unique per run), so two workers sweeping at once start one run.
 * A new sandbox needs no set-up: its schedule is created on the first sweep that
 * sees a segment, counting from the latest due time then.
 */
import type { JobModule } from '../../../lib/jobs.js';
import type { Logger } from '../../../lib/logger.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import { createIdGenerator } from '../../../lib/subgraph/ids.js';
import { TenancyRepository } from '../../../lib/tenancy/tenancy.repository.js';
import { EvaluationRunsRepository } from '../memberships/evaluationRuns.repository.js';
import { SegmentSettingsRepository } from '../memberships/segmentSettings.repository.js';
import { SegmentsRepository } from '../segments.repository.js';
import { evaluationRunsWithoutJob, scheduleEvaluation, scheduleEvaluationJob } from './evaluationScheduler.js';
import { DEFAULT_EVALUATION_CRON, latestDueAt } from './nightlySchedule.js';

export const EVALUATION_SWEEP_JOB_NAME = 'segment-evaluation-sweep';
export const EVALUATION_SWEEP_INTERVAL = '1 minute';
/** How long a run may stay QUEUED without a job before the sweep writes one. */
export const STUCK_AFTER_MS = 60_000;
const SWEEP_BATCH = 100;

export interface EvaluationSweepDependencies {
  databases: Databases;
  logger: Logger;
  now: () => Date;
}

export interface SweepOutcome {
  sandbox: string;
  /** The nightly run started, if one was due. */
  nightlyRunId: string | null;
  /** Runs that had no job and got one. */
  requeued: string[];
}

/** The nightly run's id for a due time, e.g. `nightly_20260102T0200Z`. */
export const nightlyRunId = (dueAt: Date): string =>
  `nightly_${dueAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z').replace(/(T\d{4})\d{2}Z$/, '$1Z')}`;

async function sweepSandbox(deps: EvaluationSweepDependencies, sandbox: string, now: Date): Promise<SweepOutcome> {
  const db = deps.databases.sandbox(sandbox);
  const outcome: SweepOutcome = { sandbox, nightlyRunId: null, requeued: [] };

  const runs = new EvaluationRunsRepository(db);
  const stuck = await runs.listQueuedBefore(new Date(now.getTime() - STUCK_AFTER_MS), SWEEP_BATCH);
  for (const runId of await evaluationRunsWithoutJob(deps.databases, sandbox, stuck.map((run) => run.id))) {
    await scheduleEvaluationJob(deps.databases, { sandbox, runId });
    outcome.requeued.push(runId);
  }

  if ((await new SegmentsRepository(db).list({ limit: 1, after: undefined })).length === 0) return outcome;
  const settings = new SegmentSettingsRepository(db);
  const schedule = await settings.ensureSchedule({ cron: DEFAULT_EVALUATION_CRON, lastDueAt: latestDueAt(DEFAULT_EVALUATION_CRON, now), updatedAt: now });
  const due = latestDueAt(schedule.cron, now);
  if (schedule.lastDueAt && due <= schedule.lastDueAt) return outcome;
  const runId = nightlyRunId(due);
  // The run first, then the due time: a crash in between makes the next sweep start the same run again, which is a no-op.
  await scheduleEvaluation(deps.databases, sandbox, { now, ids: createIdGenerator(deps.now), trigger: 'NIGHTLY', runId });
  await settings.markDue(due);
  outcome.nightlyRunId = runId;
  return outcome;
}

/** One sweep over every live sandbox. A failing sandbox does not stop the others. */
export async function sweepEvaluations(deps: EvaluationSweepDependencies): Promise<SweepOutcome[]> {
  const now = deps.now();
  const outcomes: SweepOutcome[] = [];
  for (const { _id: sandbox } of await new TenancyRepository(deps.databases.platform()).listSandboxes()) {
    try {
      const outcome = await sweepSandbox(deps, sandbox, now);
      if (outcome.nightlyRunId || outcome.requeued.length > 0) outcomes.push(outcome);
    } catch (error) {
      deps.logger.error({ err: error, sandbox }, 'Evaluation sweep failed for a sandbox');
    }
  }
  if (outcomes.length > 0) deps.logger.info({ outcomes }, 'Evaluation sweep started runs');
  return outcomes;
}

export const evaluationSweepJob: JobModule = {
  name: EVALUATION_SWEEP_JOB_NAME,
  define(agenda, deps) {
    const logger = deps.logger.child({ job: EVALUATION_SWEEP_JOB_NAME });
    agenda.define(EVALUATION_SWEEP_JOB_NAME, async () => {
      await sweepEvaluations({ databases: deps.databases, logger, now: deps.now });
    });
    // One repeating job for all workers (Agenda keeps a single job per `every` name).
    agenda.ready
      .then(() => agenda.every(EVALUATION_SWEEP_INTERVAL, EVALUATION_SWEEP_JOB_NAME))
      .catch((error: unknown) => logger.error({ err: error }, 'Could not schedule the evaluation sweep'));
  },
};
