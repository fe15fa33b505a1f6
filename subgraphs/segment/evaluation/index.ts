/**
 * Batch evaluation of segments, owned by the segment subgraph (the only writer of
 * memberships, their event log and evaluation runs, through `../memberships/`).
 *
 * - the API side: `scheduleEvaluation` (used by `evaluateSegments`), `getEvaluationSchedule` /
 *   `setEvaluationSchedule` (the nightly cron per sandbox);
 * - the job side, registered by the worker: `evaluateSegmentsJob` (one run) and
 *   `evaluationSweepJob` (nightly runs and runs left without a job);
 * - the run itself (`batchEvaluation.ts`), the dependency order (`evaluationOrder.ts`) and the
 *   merge join that writes the differences (`segmentDiff.ts`).
 *
 * This file is the surface other folders use; tests may reach further in.
 */
export { evaluateSegmentsJob, createEvaluateSegmentsJob, type EvaluateSegmentsJobOptions } from './evaluateSegments.job.js';
export { evaluationSweepJob, sweepEvaluations } from './evaluationSweep.job.js';
export { EVALUATE_SEGMENTS_JOB_NAME, scheduleEvaluation, type EvaluateSegmentsPayload, type ScheduleEvaluationOptions } from './evaluationScheduler.js';
export {
  DEFAULT_EVALUATION_CRON,
  getEvaluationSchedule,
  setEvaluationSchedule,
  validateEvaluationCron,
  type EvaluationSchedule,
} from './nightlySchedule.js';
export { runEvaluation, type BatchEvaluationOptions, type QualifyingSource } from './batchEvaluation.js';
