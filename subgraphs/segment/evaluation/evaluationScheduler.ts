/**
 * Starts evaluation runs: the run document (QUEUED, answered to the caller at
 * once) and its `evaluateSegments` job in the worker's Agenda collection, where
 * any worker picks it up. The Agenda here only writes jobs; it is never started.
 * Scheduling is idempotent per run: one job per (sandbox, run).
 */
import { runsWithoutJob, scheduleRunJob, type RunJobKind } from '../../../lib/jobs.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import type { IdGenerator } from '../../../lib/subgraph/ids.js';
import { EvaluationRunsRepository, type EvaluationRunRecord, type EvaluationTrigger } from '../memberships/evaluationRuns.repository.js';

export const EVALUATE_SEGMENTS_JOB_NAME = 'evaluateSegments';

export interface EvaluateSegmentsPayload {
  sandbox: string;
  runId: string;
}

export interface ScheduleEvaluationOptions {
  /** The segments to evaluate; every segment of the sandbox when null or omitted. */
  segmentIds?: readonly string[] | null;
  /** The run's evaluation time and creation time. */
  now: Date;
  ids: IdGenerator;
  trigger?: EvaluationTrigger;
  /** A fixed run id (the nightly sweep's, so racing sweeps start one run); a new id by default. */
  runId?: string;
}


const EVALUATE_SEGMENTS_JOB: RunJobKind = { name: EVALUATE_SEGMENTS_JOB_NAME, idField: 'runId' };

/** Writes the run's job unless it has one (waiting, running or done). */
export function scheduleEvaluationJob(databases: Databases, payload: EvaluateSegmentsPayload): Promise<void> {
  return scheduleRunJob(databases, EVALUATE_SEGMENTS_JOB, { ...payload });
}

/** Of these runs of `sandbox`, those with no evaluation job. */
export function evaluationRunsWithoutJob(databases: Databases, sandbox: string, runIds: readonly string[]): Promise<string[]> {
  return runsWithoutJob(databases, EVALUATE_SEGMENTS_JOB, sandbox, runIds);
}

/**
 * Creates an evaluation run (QUEUED) and its job; answers the run as stored. With a fixed
 * `runId` that exists already, answers that run and makes sure it has a job.
 */
export async function scheduleEvaluation(databases: Databases, sandbox: string, options: ScheduleEvaluationOptions): Promise<EvaluationRunRecord> {
  const runs = new EvaluationRunsRepository(databases.sandbox(sandbox));
  await runs.ensureIndexes();
  const runId = options.runId ?? options.ids('run');
  const segmentIds = options.segmentIds == null ? null : [...new Set(options.segmentIds)];
  await runs.insertQueued({ id: runId, trigger: options.trigger ?? 'ON_DEMAND', segmentIds, evaluationTime: options.now, createdAt: options.now });
  await scheduleEvaluationJob(databases, { sandbox, runId });
  const run = await runs.findById(runId);
  if (!run) throw new Error(`Evaluation run ${runId} vanished after it was created`);
  return run;
}
