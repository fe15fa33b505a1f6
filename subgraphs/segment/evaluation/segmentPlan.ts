/**
 * What a run evaluates: the sandbox's segments (read through the segment
 * repository, never written), each compiled, in `inSegment` dependency order.
 * A segment that does not compile stays in the plan with its error, so the run
 * reports it and leaves its memberships as they are.
 */
import { compileSegment, SegmentLanguageError, type Expr, type TargetEntity } from '../language/index.js';
import type { SegmentRecord, SegmentsRepository } from '../segments.repository.js';
import { evaluationOrder } from './evaluationOrder.js';

export interface PlannedSegment {
  id: string;
  target: TargetEntity;
  /** The compiled tree; null when the expression does not compile (see `error`). */
  expr: Expr | null;
  dependsOn: string[];
  error: string | null;
}

export interface SegmentPlan {
  /** Segment ids in evaluation order. */
  order: string[];
  segments: ReadonlyMap<string, PlannedSegment>;
}

const PAGE = 500;

/** Every segment of the sandbox, page by page in id order. */
export async function loadAllSegments(segments: SegmentsRepository): Promise<SegmentRecord[]> {
  const all: SegmentRecord[] = [];
  for (let after: string | undefined; ; ) {
    const page = await segments.list({ limit: PAGE, after });
    all.push(...page);
    if (page.length < PAGE) return all;
    after = page[page.length - 1]!.id;
  }
}

function compile(segment: SegmentRecord, targets: ReadonlyMap<string, TargetEntity>): PlannedSegment {
  try {
    const checked = compileSegment(segment.expression, {
      target: segment.targetEntity,
      segmentTarget: (id) => targets.get(id),
    });
    return { id: segment.id, target: segment.targetEntity, expr: checked.expr, dependsOn: checked.dependsOn, error: null };
  } catch (error) {
    const message = error instanceof SegmentLanguageError ? `${error.message} (line ${error.line}, column ${error.column})` : String(error);
    return { id: segment.id, target: segment.targetEntity, expr: null, dependsOn: [], error: `The expression does not compile: ${message}` };
  }
}

/** Compiles the requested segments (all when `requested` is null); ids of missing segments are dropped. */
export function compileSegments(all: readonly SegmentRecord[], requested: readonly string[] | null): Map<string, PlannedSegment> {
  const targets = new Map(all.map((segment) => [segment.id, segment.targetEntity]));
  const wanted = requested === null ? null : new Set(requested);
  const chosen = all.filter((segment) => wanted === null || wanted.has(segment.id));
  return new Map(chosen.map((segment) => [segment.id, compile(segment, targets)]));
}

/** Compiles and orders the requested segments. Throws SegmentCycleError on a dependency cycle. */
export function planSegments(all: readonly SegmentRecord[], requested: readonly string[] | null): SegmentPlan {
  const segments = compileSegments(all, requested);
  return { order: evaluationOrder([...segments.values()]), segments };
}
