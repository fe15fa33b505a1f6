/**
 * One batch evaluation run of one sandbox: plans the segments (dependency order,
 * fixed at the run's first start), then evaluates them with the run's evaluation
 * time: a few segments each by its pipeline, checkpointed per segment; many in one
 * scan over the members (`memberScan.ts`), checkpointed per page. Running it again
 * after a crash skips finished segments and pages and redoes the current one, which
 * the segment diff makes exact.
 *
 * Two runs of one sandbox never change memberships at once: a run holds the
 * sandbox's evaluation lease while it works (renewed with its progress), and a
 * run that finds it held throws EvaluationBusyError, to be retried later.
 */
import type { Db } from 'mongodb';
import { DomainError, ErrorCode } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/logger.js';
import { segmentEvaluations } from '../../../lib/metrics/jobMetrics.js';
import { buildSegmentPipeline } from './pipeline.js';
import type { Expr, TargetEntity } from '../language/index.js';
import { EvaluationRunsRepository, type EvaluationRunRecord, type SegmentRunResult } from '../memberships/evaluationRuns.repository.js';
import { MembershipEventsRepository } from '../memberships/membershipEvents.repository.js';
import { MembershipsRepository } from '../memberships/memberships.repository.js';
import { SegmentEvaluationsRepository } from '../memberships/segmentEvaluations.repository.js';
import { SegmentSettingsRepository } from '../memberships/segmentSettings.repository.js';
import { SegmentsRepository } from '../segments.repository.js';
import { SegmentCycleError } from './evaluationOrder.js';
import { QualifyingMembersRepository } from './qualifyingMembers.repository.js';
import { scanMembers } from './memberScan.js';
import { diffSegment, repositoryWriter, type MembershipWriter } from './segmentDiff.js';
import { compileSegments, loadAllSegments, planSegments, type PlannedSegment } from './segmentPlan.js';

const DAY_MS = 86_400_000;
/**
 * Runs of at most this many segments evaluate each with its own aggregation pipeline (the
 * database filters before it joins, cheapest for one selective segment); larger runs scan the
 * members once for all their segments, reading the data once instead of once per segment.
 */
export const MAX_SEGMENTS_BY_PIPELINE = 2;
export const SEGMENT_DELETED = 'The segment was deleted before it was evaluated';

/** A compiled segment to evaluate. */
export interface EvaluableSegment {
  id: string;
  target: TargetEntity;
  expr: Expr;
}

/** The qualifying members of a segment at an evaluation time, as strictly increasing ids. */
export type QualifyingSource = (segment: EvaluableSegment, evaluationTime: Date) => AsyncIterable<string>;

/** The production source: the segment's aggregation pipeline, run in the sandbox database. */
export function pipelineSource(db: Db): QualifyingSource {
  const repository = new QualifyingMembersRepository(db);
  return (segment, now) => repository.stream(buildSegmentPipeline(segment.expr, { target: segment.target, now }));
}

/** Another run of the sandbox holds the evaluation lease. */
export class EvaluationBusyError extends DomainError {
  constructor(readonly runId: string) {
    super(ErrorCode.Conflict, `Another evaluation run of this sandbox is in progress; run ${runId} waits for it`);
  }
}

export interface BatchEvaluationOptions {
  /** The sandbox's database. */
  db: Db;
  logger: Logger;
  /** Wall-clock time: start and finish times, the lease. The evaluation time is the run's own. */
  now: () => Date;
  /** How long exited memberships are kept (CDP_EXITED_MEMBERSHIP_RETENTION_DAYS). */
  exitedRetentionDays: number;
  /** How long the lease lasts without progress: a killed run's lease expires after it. */
  leaseMs: number;
  qualifying?: QualifyingSource;
  /** Wraps the membership writer (tests inject failures with it). */
  wrapWriter?: (writer: MembershipWriter) => MembershipWriter;
  /** Called as the run progresses (the job extends its lock with it). */
  onProgress?: () => Promise<void>;
  batchSize?: number;
  progressEvery?: number;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Runs (or resumes) an evaluation run; returns it as it ended, or null when there is no such run. */
export async function runEvaluation(runId: string, options: BatchEvaluationOptions): Promise<EvaluationRunRecord | null> {
  const { db, now, logger } = options;
  const runs = new EvaluationRunsRepository(db);
  const memberships = new MembershipsRepository(db);
  const events = new MembershipEventsRepository(db);
  const settings = new SegmentSettingsRepository(db);
  await Promise.all([runs.ensureIndexes(), memberships.ensureIndexes(), events.ensureIndexes()]);

  const existing = await runs.findById(runId);
  if (!existing || existing.status === 'SUCCEEDED' || existing.status === 'FAILED') return existing;

  const renewLease = async () => {
    const at = now();
    if (!(await settings.claimLease(runId, at, new Date(at.getTime() + options.leaseMs)))) throw new EvaluationBusyError(runId);
  };
  await renewLease();
  try {
    const all = await loadAllSegments(new SegmentsRepository(db));
    let segments: ReadonlyMap<string, PlannedSegment>;
    let plan: string[];
    if (existing.plan) {
      plan = existing.plan;
      segments = compileSegments(all, plan);
    } else {
      try {
        ({ order: plan, segments } = planSegments(all, existing.segmentIds));
      } catch (error) {
        if (!(error instanceof SegmentCycleError)) throw error;
        await runs.finish(runId, { status: 'FAILED', at: now(), error: error.message });
        logger.error({ runId, cycle: error.cycle }, 'Evaluation run refused: segments depend on each other in a cycle');
        return runs.findById(runId);
      }
    }
    const run = await runs.start(runId, plan, now());
    if (!run) return runs.findById(runId);
    const done = new Set(run.results.map((result) => result.segmentId));
    const writer = (options.wrapWriter ?? ((base) => base))(repositoryWriter(events, memberships));
    const lastEvaluations = new SegmentEvaluationsRepository(db);

    const context: RunContext = { runId, run, plan: run.plan ?? plan, segments, done, runs, memberships, writer, lastEvaluations, renewLease, options };
    const pending = await pendingSegments(context);
    // A few segments are best answered by their own pushed-down pipelines; many by one shared scan.
    if (options.qualifying || pending.length <= MAX_SEGMENTS_BY_PIPELINE) {
      await evaluateOneByOne(context, pending, options.qualifying ?? pipelineSource(db));
    } else {
      await evaluateByScan(context, pending);
    }

    const finished = await runs.findById(runId);
    const failed = (finished?.results ?? []).filter((result) => result.error !== null && result.error !== SEGMENT_DELETED);
    const error = failed.length === 0 ? null : `${failed.length} segment(s) could not be evaluated: ${failed.map((result) => `${result.segmentId} (${result.error})`).join('; ')}`;
    await runs.finish(runId, { status: error ? 'FAILED' : 'SUCCEEDED', at: now(), error });
    return runs.findById(runId);
  } finally {
    await settings.releaseLease(runId).catch((error: unknown) => logger.warn({ err: error, runId }, 'Could not release the evaluation lease'));
  }
}

interface RunContext {
  runId: string;
  run: EvaluationRunRecord;
  plan: readonly string[];
  segments: ReadonlyMap<string, PlannedSegment>;
  /** Segments this run has already finished (an earlier attempt's checkpoints). */
  done: ReadonlySet<string>;
  runs: EvaluationRunsRepository;
  memberships: MembershipsRepository;
  writer: MembershipWriter;
  lastEvaluations: SegmentEvaluationsRepository;
  renewLease: () => Promise<void>;
  options: BatchEvaluationOptions;
}

/**
 * The segments of the plan still to evaluate, each compiled; those that cannot be (deleted,
 * or not compiling) are recorded as skipped with their reason.
 */
async function pendingSegments({ runId, plan, segments, done, runs, options }: RunContext): Promise<EvaluableSegment[]> {
  const pending: EvaluableSegment[] = [];
  for (const segmentId of plan) {
    if (done.has(segmentId)) continue;
    const segment = segments.get(segmentId);
    const at = options.now();
    const skipped = (error: string): SegmentRunResult => ({ segmentId, realized: 0, existing: 0, exited: 0, membersEvaluated: 0, startedAt: at, finishedAt: at, error });
    if (!segment) await runs.completeSegment(runId, skipped(SEGMENT_DELETED));
    else if (!segment.expr) await runs.completeSegment(runId, skipped(segment.error ?? 'The expression does not compile'));
    else pending.push({ id: segment.id, target: segment.target, expr: segment.expr });
  }
  return pending;
}

async function recordSegment(context: RunContext, segmentId: string, counts: Omit<SegmentRunResult, 'segmentId' | 'startedAt' | 'finishedAt' | 'error'>, startedAt: Date) {
  const { runId, run, runs, lastEvaluations, options } = context;
  const finishedAt = options.now();
  await lastEvaluations.record({ segmentId, runId, evaluationTime: run.evaluationTime, startedAt, finishedAt, realized: counts.realized, existing: counts.existing, exited: counts.exited });
  await runs.completeSegment(runId, { segmentId, ...counts, startedAt, finishedAt, error: null });
  segmentEvaluations.labels('batch').inc();
}

/**
 * The production way: one scan over the people for every person segment, then one over the
 * accounts for every account segment (which may use person segments), checkpointed per page.
 */
async function evaluateByScan(context: RunContext, pending: readonly EvaluableSegment[]): Promise<void> {
  const { runId, run, runs, memberships, writer, renewLease, options } = context;
  for (const target of ['PERSON', 'ACCOUNT'] as const) {
    const segments = pending.filter((segment) => segment.target === target);
    if (segments.length === 0) continue;
    const startedAt = options.now();
    await renewLease();
    const counts = await scanMembers({
      db: options.db,
      target,
      segments,
      runId,
      at: run.evaluationTime,
      retentionMs: options.exitedRetentionDays * DAY_MS,
      memberships,
      writer,
      resume: run.scan?.target === target ? run.scan : null,
      pageSize: options.batchSize,
      onPage: async (checkpoint, membersEvaluated) => {
        await runs.saveScan(runId, checkpoint, membersEvaluated);
        await renewLease();
        await options.onProgress?.();
      },
    });
    for (const segment of segments) await recordSegment(context, segment.id, counts[segment.id]!, startedAt);
    await options.onProgress?.();
    options.logger.debug({ runId, target, segments: segments.length }, 'Segments evaluated');
  }
}

/** One segment at a time from a qualifying source (its pipeline, or a test's), checkpointed per segment. */
async function evaluateOneByOne(context: RunContext, pending: readonly EvaluableSegment[], source: QualifyingSource): Promise<void> {
  const { runId, run, runs, memberships, writer, renewLease, options } = context;
  for (const segment of pending) {
    const segmentId = segment.id;
    const startedAt = options.now();
    await renewLease();
    await runs.progress(runId, segmentId, 0);
    let qualifying: AsyncIterable<string>;
    try {
      qualifying = source(segment, run.evaluationTime);
    } catch (error) {
      // A source that cannot be built is this segment's problem, not the run's.
      const finishedAt = options.now();
      await runs.completeSegment(runId, { segmentId, realized: 0, existing: 0, exited: 0, membersEvaluated: 0, startedAt, finishedAt, error: `The segment could not be evaluated: ${describe(error)}` });
      continue;
    }
    const counts = await diffSegment({
      segmentId,
      memberType: segment.target,
      runId,
      at: run.evaluationTime,
      retentionMs: options.exitedRetentionDays * DAY_MS,
      qualifying,
      memberships: memberships.scanSegment(segmentId),
      writer,
      batchSize: options.batchSize,
      progressEvery: options.progressEvery,
      onProgress: async (membersEvaluated) => {
        await runs.progress(runId, segmentId, membersEvaluated);
        await renewLease();
        await options.onProgress?.();
      },
    });
    await recordSegment(context, segmentId, counts, startedAt);
    await options.onProgress?.();
    options.logger.debug({ runId, segmentId, ...counts }, 'Segment evaluated');
  }
}

/** Marks a run FAILED (the job gave up on it). */
export async function failRun(db: Db, runId: string, error: unknown, at: Date): Promise<void> {
  await new EvaluationRunsRepository(db).finish(runId, { status: 'FAILED', at, error: describe(error) });
}
