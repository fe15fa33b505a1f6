/** The segment subgraph's request context: services and loaders bound to the request's sandbox. */
import { SegmentHolds } from '../../lib/segmentHolds.js';
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { EvaluationService } from './evaluation.service.js';
import { loadMembers } from './evaluation/memberLoader.js';
import { createLiveService } from './live/createLiveService.js';
import type { LiveService } from './live/live.service.js';
import { ExplainService } from './explain.service.js';
import { ExpressionService } from './expression.service.js';
import { createSegmentLoaders, type SegmentLoaders } from './loaders.js';
import { MembershipService } from './membership.service.js';
import type { EvaluationRunRecord } from './memberships/evaluationRuns.repository.js';
import { EvaluationRunsRepository } from './memberships/evaluationRuns.repository.js';
import { MembershipEventsRepository } from './memberships/membershipEvents.repository.js';
import { MembershipsRepository } from './memberships/memberships.repository.js';
import { SegmentEvaluationsRepository } from './memberships/segmentEvaluations.repository.js';
import { PreviewService } from './preview.service.js';
import { SegmentService } from './segment.service.js';
import { SegmentQueryRepository } from './segmentQuery.repository.js';
import { SegmentsRepository } from './segments.repository.js';
import type { StreamingView } from './streaming/index.js';

/** Evaluation runs go to the worker through the platform's job collection: bound once per process, not per sandbox. */
export interface EvaluationScheduling {
  /** Queues a run of these segments (null: all) of `sandbox` at evaluation time `now`; answers the stored run. */
  schedule(sandbox: string, segmentIds: string[] | null, now: Date): Promise<EvaluationRunRecord>;
  /** The sandbox's nightly cron expression (the default when none was set). */
  getSchedule(sandbox: string, now: Date): Promise<string>;
  /** Validates and stores the sandbox's nightly cron expression. */
  setSchedule(sandbox: string, cron: string, now: Date): Promise<string>;
}

export interface SegmentContext extends SubgraphContextBase {
  readonly loaders: SegmentLoaders;
  readonly services: {
    readonly segments: SegmentService;
    readonly memberships: MembershipService;
    readonly evaluations: EvaluationService;
    readonly previews: PreviewService;
    readonly explanations: ExplainService;
    readonly live: LiveService;
    /** Streaming evaluation of the sandbox, read once per request. */
    readonly streaming: { status(): Promise<StreamingView> };
  };
}

/** Streaming evaluation's status is kept in the platform database: read through a port bound once per process. */
export type StreamingStatusReader = (sandbox: string, now: Date) => Promise<StreamingView>;

export function createSegmentContext(
  scope: RequestScope,
  deps: { ids: IdGenerator; scheduling: EvaluationScheduling; streaming: StreamingStatusReader },
): SegmentContext {
  const segments = new SegmentsRepository(scope.db);
  const memberships = new MembershipsRepository(scope.db);
  const evaluations = new SegmentEvaluationsRepository(scope.db);
  const events = new MembershipEventsRepository(scope.db);
  const queries = new SegmentQueryRepository(scope.db);
  const base = serviceDeps(scope, deps.ids);
  const loaders = createSegmentLoaders({ segments, memberships, evaluations });
  const expressions = new ExpressionService(segments);
  const { scheduling } = deps;
  let streamingStatus: Promise<StreamingView> | undefined;
  return Object.freeze({
    ...contextBase(scope),
    loaders,
    services: Object.freeze({
      segments: new SegmentService(
        segments,
        expressions,
        {
          hasAny: async (segmentId) => (await memberships.pageOfSegment(segmentId, { limit: 1 })).length > 0,
          deleteAll: async (segmentId) => {
            await memberships.deleteSegment(segmentId);
            await evaluations.deleteSegment(segmentId);
          },
        },
        base,
        new SegmentHolds(scope.db),
      ),
      memberships: new MembershipService(memberships, events, loaders),
      evaluations: new EvaluationService(
        {
          segments,
          runs: new EvaluationRunsRepository(scope.db),
          schedule: (segmentIds) => scheduling.schedule(scope.sandbox, segmentIds, scope.now()),
          getSchedule: () => scheduling.getSchedule(scope.sandbox, scope.now()),
          setSchedule: (cron) => scheduling.setSchedule(scope.sandbox, cron, scope.now()),
        },
        base,
      ),
      previews: new PreviewService(
        {
          segments,
          expressions,
          runPreview: (query, options) => queries.preview(query, options),
          currentSize: async (segmentId) => (await memberships.countByStatus([segmentId]))[0]?.size ?? 0,
        },
        base,
      ),
      explanations: new ExplainService(
        {
          segments,
          expressions,
          loadMembers: (target, ids) => loadMembers(scope.db, target, ids),
          storedStatus: async (segmentId, memberId) => (await memberships.find(segmentId, memberId))?.status ?? null,
        },
        base,
      ),
      live: createLiveService(scope.db, { segments, memberships, events }, base),
      streaming: { status: () => (streamingStatus ??= deps.streaming(scope.sandbox, scope.now())) },
    }),
  });
}
