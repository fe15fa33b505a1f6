/**
 * The streaming segments of one sandbox, compiled: each definition's predicate is built once
 * and kept while its expression and target stay the same (a reload after a definition change
 * recompiles only what changed), in `inSegment` dependency order, so a segment is evaluated
 * after the segments it uses and reads their memberships as the same batch left them.
 */
import type { Logger } from '../../../lib/logger.js';
import { evaluationOrder, SegmentCycleError } from '../evaluation/evaluationOrder.js';
import { memberNeeds, type MemberNeeds } from '../evaluation/memberNeeds.js';
import { loadAllSegments } from '../evaluation/segmentPlan.js';
import {
  compilePredicate,
  compileSegment,
  eventRelevance,
  EVERY_EVENT,
  NO_EVENT,
  type EventRelevance,
  type Expr,
  type Predicate,
  type TargetEntity,
} from '../language/index.js';
import type { SegmentsRepository } from '../segments.repository.js';

export interface StreamingSegment {
  id: string;
  target: TargetEntity;
  expr: Expr;
  predicate: Predicate;
  timeDependent: boolean;
  dependsOn: readonly string[];
  /** For a person segment, which new events can change its result (eventRelevance.ts); every event for an account segment. */
  events: EventRelevance | typeof EVERY_EVENT | typeof NO_EVENT;
}

/** A compiled definition, reused while the text and target stay the same. */
type Compiled = { key: string; segment: StreamingSegment };

export class SegmentCatalog {
  private constructor(
    private readonly byTarget: Readonly<Record<TargetEntity, readonly StreamingSegment[]>>,
    private readonly ids: ReadonlySet<string>,
    private readonly used: ReadonlySet<string>,
    private readonly cache: ReadonlyMap<string, Compiled>,
  ) {}

  static empty(): SegmentCatalog {
    return new SegmentCatalog({ PERSON: [], ACCOUNT: [] }, new Set(), new Set(), new Map());
  }

  /** Loads and compiles every segment of the sandbox, reusing this catalog's compiled definitions. */
  async reload(segments: SegmentsRepository, logger: Logger): Promise<SegmentCatalog> {
    const all = await loadAllSegments(segments);
    const targets = new Map(all.map((segment) => [segment.id, segment.targetEntity]));
    const cache = new Map<string, Compiled>();
    for (const record of all) {
      const key = `${record.targetEntity}\n${record.expression}`;
      const previous = this.cache.get(record.id);
      if (previous?.key === key) {
        cache.set(record.id, previous);
        continue;
      }
      try {
        const checked = compileSegment(record.expression, { target: record.targetEntity, segmentTarget: (id) => targets.get(id) });
        cache.set(record.id, {
          key,
          segment: {
            id: record.id,
            target: record.targetEntity,
            expr: checked.expr,
            predicate: compilePredicate(checked.expr, record.targetEntity),
            timeDependent: checked.timeDependent,
            dependsOn: checked.dependsOn,
            events: record.targetEntity === 'PERSON' ? eventRelevance(checked.expr) : EVERY_EVENT,
          },
        });
      } catch (error) {
        // Left out: the segment keeps its memberships until its definition compiles again.
        logger.warn({ segmentId: record.id, err: error }, 'Segment does not compile; not evaluated by streaming');
      }
    }
    const compiled = [...cache.values()].map((entry) => entry.segment);
    let order: string[];
    try {
      order = evaluationOrder(compiled.map((segment) => ({ id: segment.id, dependsOn: segment.dependsOn })));
    } catch (error) {
      if (!(error instanceof SegmentCycleError)) throw error;
      // Definitions refuse cycles; stored data with one is evaluated in id order rather than not at all.
      logger.error({ cycle: error.cycle }, 'Segments depend on each other in a cycle');
      order = compiled.map((segment) => segment.id).sort();
    }
    const byId = new Map(compiled.map((segment) => [segment.id, segment]));
    const ordered = order.map((id) => byId.get(id)!);
    return new SegmentCatalog(
      { PERSON: ordered.filter((s) => s.target === 'PERSON'), ACCOUNT: ordered.filter((s) => s.target === 'ACCOUNT') },
      new Set(byId.keys()),
      new Set(compiled.flatMap((segment) => segment.dependsOn)),
      cache,
    );
  }

  /** What the target's segments read of a member at `now`, so members are loaded with only that. */
  needs(target: TargetEntity, now: Date): MemberNeeds {
    return memberNeeds(this.byTarget[target].map((segment) => segment.expr), now);
  }

  /** The ids of the person segments whose result a new event (its fields and id) can change at `now`. */
  personSegmentsReachedBy(event: Readonly<Record<string, unknown>>, now: Date): string[] {
    const at = now.getTime();
    const ids: string[] = [];
    for (const segment of this.byTarget.PERSON) {
      const reached = segment.events === EVERY_EVENT || (segment.events !== NO_EVENT && segment.events(event, at));
      if (reached) ids.push(segment.id);
    }
    return ids;
  }

  /** The target's segments in evaluation order. */
  ordered(target: TargetEntity): readonly StreamingSegment[] {
    return this.byTarget[target];
  }

  has(segmentId: string): boolean {
    return this.ids.has(segmentId);
  }

  /** The segments other segments use with `inSegment`, sorted. */
  get usedSegmentIds(): readonly string[] {
    return [...this.used].sort();
  }

  /** Whether another segment uses this one with `inSegment`. */
  isUsed(segmentId: string): boolean {
    return this.used.has(segmentId);
  }

  /** Whether any account segment exists (a person's changes then reach its accounts). */
  get hasAccountSegments(): boolean {
    return this.byTarget.ACCOUNT.length > 0;
  }

  get hasSegments(): boolean {
    return this.ids.size > 0;
  }
}
