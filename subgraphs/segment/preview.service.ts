/**
 * Preview: what an expression would select now, before it is saved or while it is
 * edited. The pipeline runs inside the database (segmentQuery.repository.ts); the
 * members leaving an edited segment are its current members minus those of them
 * that still qualify, so no id list is ever held here. Writes nothing.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { buildSegmentPipeline } from './evaluation/pipeline.js';
import { expressionText, type ExpressionService } from './expression.service.js';
import type { PreviewCounts, SegmentQuery } from './segmentQuery.repository.js';
import { targetEntity } from './segment.service.js';
import type { SegmentsRepository, TargetEntity } from './segments.repository.js';

/** Members a preview shows. */
export const PREVIEW_SAMPLE_SIZE = 20;

export interface PreviewSegmentInput {
  expression: string;
  targetEntity?: TargetEntity | null;
  segmentId?: string | null;
}

/** A member in a preview's sample; `memberType` decides whether it is a profile or an account. */
export interface PreviewMember {
  memberId: string;
  memberType: TargetEntity;
}

export interface SegmentPreview {
  size: number;
  sample: PreviewMember[];
  entering: number | null;
  exiting: number | null;
  evaluatedAt: Date;
}

export interface PreviewPorts {
  segments: SegmentsRepository;
  expressions: ExpressionService;
  /** Runs a pipeline in the sandbox database. */
  runPreview(query: SegmentQuery, options: { sampleSize: number; comparedWith?: string }): Promise<PreviewCounts>;
  /** How many current (realized or existing) members a segment has. */
  currentSize(segmentId: string): Promise<number>;
}

export class PreviewService {
  constructor(
    private readonly ports: PreviewPorts,
    private readonly deps: ServiceDeps,
  ) {}

  async preview(input: PreviewSegmentInput): Promise<SegmentPreview> {
    requireRole(this.deps.principal, 'editor');
    const text = expressionText(input.expression);
    const edited = input.segmentId == null ? null : ((await this.ports.segments.findByIds([input.segmentId]))[0] ?? null);
    if (input.segmentId != null && !edited) throw notFound('Segment', input.segmentId);
    const target = input.targetEntity != null ? targetEntity(input.targetEntity) : edited?.targetEntity;
    if (!target) throw badInput('targetEntity is required unless segmentId names the segment being edited', { field: 'targetEntity' });

    const compiled = await this.ports.expressions.compile(text, target);
    // An edit that would close an inSegment cycle is refused now rather than at save time.
    if (edited) await this.ports.expressions.refuseCycle(edited, compiled);
    const evaluatedAt = this.deps.now();
    const query = buildSegmentPipeline(compiled.expr, { target, now: evaluatedAt });
    const [counts, current] = await Promise.all([
      this.ports.runPreview(query, { sampleSize: PREVIEW_SAMPLE_SIZE, comparedWith: edited?.id }),
      edited ? this.ports.currentSize(edited.id) : Promise.resolve(0),
    ]);
    const staying = counts.size - (counts.entering ?? 0);
    return {
      size: counts.size,
      sample: counts.sampleIds.map((memberId) => ({ memberId, memberType: target })),
      entering: edited ? counts.entering : null,
      // The two reads are not one snapshot: an evaluation writing between them may skew this, so never below zero.
      exiting: edited ? Math.max(0, current - staying) : null,
      evaluatedAt,
    };
  }
}
