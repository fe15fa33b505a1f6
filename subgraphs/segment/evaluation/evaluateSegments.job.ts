/**
 * The `evaluateSegments` job: runs one evaluation run (batchEvaluation.ts) on a
 * worker. A killed worker's job is taken up by another worker once its lock
 * expires, and the run resumes from its last finished segment; the lock is
 * extended while the run makes progress. A run that finds another run of its
 * sandbox in progress waits for it (retried every BUSY_RETRY_MS).
 */
import { lockRenewal, type JobDependencies, type JobModule } from '../../../lib/jobs.js';
import { EvaluationBusyError, failRun, runEvaluation, type QualifyingSource } from './batchEvaluation.js';
import { EVALUATE_SEGMENTS_JOB_NAME, type EvaluateSegmentsPayload } from './evaluationScheduler.js';
import type { MembershipWriter } from './segmentDiff.js';
import type { Db } from 'mongodb';

export { EVALUATE_SEGMENTS_JOB_NAME, type EvaluateSegmentsPayload };

/** Attempts after an unexpected error (a database outage) before the run is marked FAILED. */
export const MAX_ATTEMPTS = 4;
const BUSY_RETRY_MS = 15_000;
/** Busy retries give up after about a day; a run waits for another that long at most. */
const MAX_BUSY_ATTEMPTS = 6_000;

export interface EvaluateSegmentsJobOptions {
  /** How long exited memberships are kept; `deps.audiences` (CDP_EXITED_MEMBERSHIP_RETENTION_DAYS) when left out. */
  exitedRetentionDays?: number;
  /** Longer than any pause between two progress reports; extended as the run progresses. */
  lockLifetimeMs?: number;
  /** Where the qualifying members come from (the segment's pipeline by default). */
  qualifying?: (db: Db) => QualifyingSource;
  wrapWriter?: (writer: MembershipWriter) => MembershipWriter;
  batchSize?: number;
  progressEvery?: number;
}

export function createEvaluateSegmentsJob(options: EvaluateSegmentsJobOptions = {}): JobModule {
  const lockLifetimeMs = options.lockLifetimeMs ?? 10 * 60_000;
  return {
    name: EVALUATE_SEGMENTS_JOB_NAME,
    define(agenda, deps: JobDependencies) {
      agenda.define<EvaluateSegmentsPayload>(
        EVALUATE_SEGMENTS_JOB_NAME,
        async (job) => {
          const { sandbox, runId } = job.attrs.data;
          const db = deps.databases.sandbox(sandbox);
          const logger = deps.logger.child({ job: EVALUATE_SEGMENTS_JOB_NAME, sandbox, runId });
          const renewLock = lockRenewal(job, lockLifetimeMs);
          try {
            const run = await runEvaluation(runId, {
              db,
              logger,
              now: deps.now,
              exitedRetentionDays: options.exitedRetentionDays ?? deps.audiences.exitedMembershipRetentionDays,
              leaseMs: lockLifetimeMs,
              qualifying: options.qualifying?.(db),
              wrapWriter: options.wrapWriter,
              batchSize: options.batchSize,
              progressEvery: options.progressEvery,
              onProgress: renewLock,
            });
            logger.info({ status: run?.status, segmentsDone: run?.segmentsDone, membersEvaluated: run?.membersEvaluated }, 'Evaluation run ended');
          } catch (error) {
            if (error instanceof EvaluationBusyError) throw error;
            const attempt = (job.attrs.failCount ?? 0) + 1;
            if (attempt < MAX_ATTEMPTS) throw error;
            logger.error({ err: error, attempt }, 'Evaluation run failed');
            await failRun(db, runId, error, deps.now());
          }
        },
        {
          concurrency: 2,
          lockLifetime: lockLifetimeMs,
          backoff: ({ attempt, error }) => {
            if (error instanceof EvaluationBusyError) return attempt <= MAX_BUSY_ATTEMPTS ? BUSY_RETRY_MS : null;
            return attempt < MAX_ATTEMPTS ? 5_000 * attempt : null;
          },
        },
      );
    },
  };
}

/** The job as the worker registers it. */
export const evaluateSegmentsJob: JobModule = createEvaluateSegmentsJob();
