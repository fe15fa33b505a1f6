/** The segment subgraph's request context: services and loaders bound to the request's sandbox. */
import { SegmentHolds } from '../../lib/segmentHolds.js';
import { contextBase, serviceDeps, type ServiceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
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
  readonly services: SegmentServiceSet;
}

/** The services of one request, bound to its sandbox and caller. */
export interface SegmentServiceSet {
  readonly segments: SegmentService;
  readonly memberships: MembershipService;
  readonly evaluations: EvaluationService;
  readonly previews: PreviewService;
  readonly explanations: ExplainService;
  readonly live: LiveService;
  /** Streaming evaluation of the sandbox, read once per request. */
  readonly streaming: { status(): Promise<StreamingView> };
}

/** Streaming evaluation's status is kept in the platform database: read through a port bound once per process. */
export type StreamingStatusReader = (sandbox: string, now: Date) => Promise<StreamingView>;

export interface SegmentContextDeps {
  ids: IdGenerator;
  scheduling: EvaluationScheduling;
  streaming: StreamingStatusReader;
}

/**
 * The context of one request. Loaders, services and the repositories under them are built on
 * first use and kept for the request: a query pays only for what its fields call, and a
 * subscription, whose context lives as long as it runs, holds only the live service.
 */
export function createSegmentContext(scope: RequestScope, deps: SegmentContextDeps): SegmentContext {
  const parts = new SegmentRequestParts(scope, deps);
  return Object.freeze({
    ...contextBase(scope),
    get loaders() {
      return parts.loaders;
    },
    services: Object.freeze(new SegmentServices(parts)),
  });
}

/** The request's repositories and loaders, each made when first asked for. */
class SegmentRequestParts {
  #segments?: SegmentsRepository;
  #memberships?: MembershipsRepository;
  #evaluations?: SegmentEvaluationsRepository;
  #events?: MembershipEventsRepository;
  #expressions?: ExpressionService;
  #loaders?: SegmentLoaders;
  #base?: ServiceDeps;

  constructor(
    readonly scope: RequestScope,
    readonly deps: SegmentContextDeps,
  ) {}

  get segments(): SegmentsRepository {
    return (this.#segments ??= new SegmentsRepository(this.scope.db));
  }

  get memberships(): MembershipsRepository {
    return (this.#memberships ??= new MembershipsRepository(this.scope.db));
  }

  get evaluations(): SegmentEvaluationsRepository {
    return (this.#evaluations ??= new SegmentEvaluationsRepository(this.scope.db));
  }

  get events(): MembershipEventsRepository {
    return (this.#events ??= new MembershipEventsRepository(this.scope.db));
  }

  get expressions(): ExpressionService {
    return (this.#expressions ??= new ExpressionService(this.segments));
  }

  get loaders(): SegmentLoaders {
    return (this.#loaders ??= createSegmentLoaders({ segments: this.segments, memberships: this.memberships, evaluations: this.evaluations }));
  }

  get base(): ServiceDeps {
    return (this.#base ??= serviceDeps(this.scope, this.deps.ids));
  }
}

/** SegmentContext['services'], each service made when a resolver first calls it. */
class SegmentServices implements SegmentServiceSet {
  #segments?: SegmentService;
  #memberships?: MembershipService;
  #evaluations?: EvaluationService;
  #previews?: PreviewService;
  #explanations?: ExplainService;
  #live?: LiveService;
  #streaming?: { status(): Promise<StreamingView> };
  #streamingStatus?: Promise<StreamingView>;

  constructor(private readonly parts: SegmentRequestParts) {}

  get segments(): SegmentService {
    const { parts } = this;
    return (this.#segments ??= new SegmentService(
      parts.segments,
      parts.expressions,
      {
        hasAny: async (segmentId) => (await parts.memberships.pageOfSegment(segmentId, { limit: 1 })).length > 0,
        deleteAll: async (segmentId) => {
          await parts.memberships.deleteSegment(segmentId);
          await parts.evaluations.deleteSegment(segmentId);
        },
      },
      parts.base,
      new SegmentHolds(parts.scope.db),
    ));
  }

  get memberships(): MembershipService {
    const { parts } = this;
    return (this.#memberships ??= new MembershipService(parts.memberships, parts.events, parts.loaders));
  }

  get evaluations(): EvaluationService {
    const { parts } = this;
    const { scope, deps } = parts;
    return (this.#evaluations ??= new EvaluationService(
      {
        segments: parts.segments,
        runs: new EvaluationRunsRepository(scope.db),
        schedule: (segmentIds) => deps.scheduling.schedule(scope.sandbox, segmentIds, scope.now()),
        getSchedule: () => deps.scheduling.getSchedule(scope.sandbox, scope.now()),
        setSchedule: (cron) => deps.scheduling.setSchedule(scope.sandbox, cron, scope.now()),
      },
      parts.base,
    ));
  }

  get previews(): PreviewService {
    const { parts } = this;
    if (this.#previews) return this.#previews;
    const queries = new SegmentQueryRepository(parts.scope.db);
    return (this.#previews = new PreviewService(
      {
        segments: parts.segments,
        expressions: parts.expressions,
        runPreview: (query, options) => queries.preview(query, options),
        currentSize: async (segmentId) => (await parts.memberships.countByStatus([segmentId]))[0]?.size ?? 0,
      },
      parts.base,
    ));
  }

  get explanations(): ExplainService {
    const { parts } = this;
    return (this.#explanations ??= new ExplainService(
      {
        segments: parts.segments,
        expressions: parts.expressions,
        loadMembers: (target, ids) => loadMembers(parts.scope.db, target, ids),
        storedStatus: async (segmentId, memberId) => (await parts.memberships.find(segmentId, memberId))?.status ?? null,
      },
      parts.base,
    ));
  }

  get live(): LiveService {
    const { parts } = this;
    return (this.#live ??= createLiveService(parts.scope.db, { segments: parts.segments, memberships: parts.memberships, events: parts.events }, parts.base));
  }

  /** Streaming evaluation of the sandbox, read once per request. */
  get streaming(): { status(): Promise<StreamingView> } {
    const { scope, deps } = this.parts;
    return (this.#streaming ??= { status: () => (this.#streamingStatus ??= deps.streaming(scope.sandbox, scope.now())) });
  }
}
