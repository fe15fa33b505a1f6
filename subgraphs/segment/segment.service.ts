/**
 * Segment definition rules: names and expressions are validated, expressions are
 * checked against the data model and the segments they use, `inSegment` cycles
 * and more than MAX_SEGMENTS_PER_SANDBOX segments are refused, and a segment
 * another one uses cannot be deleted or change what its members are. Any caller
 * reads and watches; changing definitions needs the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../lib/errors.js';
import type { ChangeIterator } from '../../lib/subgraph/changeStream.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { definedFields, optionalText, requiredText } from '../../lib/subgraph/validation.js';
import { expressionText, type ExpressionService } from './expression.service.js';
import type { SegmentChange, SegmentFields, SegmentRecord, SegmentsRepository, TargetEntity } from './segments.repository.js';

export const MAX_NAME_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 2000;
/** Segments per sandbox (issue 10's limit): evaluation order and `inSegment` checks stay cheap below it. */
export const MAX_SEGMENTS_PER_SANDBOX = 4000;
const TARGET_ENTITIES: readonly TargetEntity[] = ['PERSON', 'ACCOUNT'];

export interface CreateSegmentInput {
  name: string;
  description?: string | null;
  expression: string;
  targetEntity: TargetEntity;
}

export interface UpdateSegmentInput {
  name?: string | null;
  description?: string | null;
  expression?: string | null;
  targetEntity?: TargetEntity | null;
}

/** What definitions need of the memberships a segment has. */
export interface SegmentMembershipsPort {
  /** Whether the segment has any stored membership, exited ones included. */
  hasAny(segmentId: string): Promise<boolean>;
  /** Removes every membership of the segment (and what is kept with them). */
  deleteAll(segmentId: string): Promise<void>;
}

/** Who relies on a segment from outside the subgraph (lib/segmentHolds.ts): activations. */
export interface SegmentHoldsPort {
  holdersOf(segmentId: string): Promise<{ holders: string[]; count: number }>;
}

export type EvaluationMethod = 'BATCH' | 'STREAMING';

/**
 * Every segment is evaluated by streaming while a streaming evaluator holds the sandbox
 * (`streamingLive`); otherwise in batches, and the reason says so plainly.
 */
export function evaluationMethodOf(_segment: SegmentRecord, streamingLive = false): { method: EvaluationMethod; reasons: string[] } {
  if (streamingLive) return { method: 'STREAMING', reasons: [] };
  return { method: 'BATCH', reasons: ['Streaming evaluation is not available yet; evaluated nightly and on demand'] };
}

export function targetEntity(value: string): TargetEntity {
  if (!TARGET_ENTITIES.includes(value as TargetEntity)) {
    throw badInput(`targetEntity must be one of ${TARGET_ENTITIES.join(', ')}`, { field: 'targetEntity' });
  }
  return value as TargetEntity;
}

function names(segments: readonly SegmentRecord[]): string {
  return segments.map((segment) => `${segment.id} ("${segment.name}")`).join(', ');
}

export class SegmentService {
  constructor(
    private readonly segments: SegmentsRepository,
    private readonly expressions: ExpressionService,
    private readonly memberships: SegmentMembershipsPort,
    private readonly deps: ServiceDeps,
    private readonly holds?: SegmentHoldsPort,
  ) {}

  list(args: PageArgs & { targetEntity?: TargetEntity | null }): Promise<SegmentRecord[]> {
    return this.segments.list(parsePageArgs(args), args.targetEntity ?? undefined);
  }

  async create(input: CreateSegmentInput): Promise<SegmentRecord> {
    requireRole(this.deps.principal, 'editor');
    const name = requiredText(input.name, 'name', MAX_NAME_LENGTH);
    const description = optionalText(input.description, 'description', MAX_DESCRIPTION_LENGTH) ?? null;
    const expression = expressionText(input.expression);
    const target = targetEntity(input.targetEntity);
    await this.segments.ensureIndexes();
    // Counted before the insert, not with it: two creates racing at the limit may both land, a bounded overshoot.
    const count = await this.segments.count();
    if (count >= MAX_SEGMENTS_PER_SANDBOX) {
      throw new DomainError(
        ErrorCode.LimitExceeded,
        `A sandbox holds at most ${MAX_SEGMENTS_PER_SANDBOX} segments; delete one before creating another`,
        { details: { limit: MAX_SEGMENTS_PER_SANDBOX, count } },
      );
    }
    const compiled = await this.expressions.compile(expression, target);
    const id = this.deps.ids('seg');
    await this.expressions.refuseCycle({ id, name }, compiled);
    const now = this.deps.now();
    return this.segments.insert({
      id,
      name,
      description,
      expression,
      targetEntity: target,
      dependsOn: compiled.dependsOn,
      createdAt: now,
      updatedAt: now,
    });
  }

  async update(id: string, input: UpdateSegmentInput): Promise<SegmentRecord> {
    requireRole(this.deps.principal, 'editor');
    const fields = definedFields<SegmentFields>({
      name: input.name === undefined ? undefined : requiredText(input.name, 'name', MAX_NAME_LENGTH),
      description: optionalText(input.description, 'description', MAX_DESCRIPTION_LENGTH),
      expression: input.expression === undefined ? undefined : expressionText(input.expression),
      targetEntity: input.targetEntity == null ? undefined : targetEntity(input.targetEntity),
    });
    const [current] = await this.segments.findByIds([id]);
    if (!current) throw notFound('Segment', id);
    const target = fields.targetEntity ?? current.targetEntity;
    if (target !== current.targetEntity) await this.refuseTargetChange(current, target);
    if (fields.expression !== undefined || target !== current.targetEntity) {
      const compiled = await this.expressions.compile(fields.expression ?? current.expression, target);
      await this.expressions.refuseCycle({ id, name: fields.name ?? current.name }, compiled);
      fields.dependsOn = compiled.dependsOn;
    }
    const updated = await this.segments.update(id, fields, this.deps.now());
    if (!updated) throw notFound('Segment', id);
    return updated;
  }

  /**
   * A segment's members are people or accounts for good: other segments' `inSegment`
   * checks and stored memberships rely on it. A segment nothing uses and nobody has
   * been a member of may change; otherwise create a new segment.
   */
  private async refuseTargetChange(current: SegmentRecord, target: TargetEntity): Promise<void> {
    const users = await this.segments.findUsers([current.id]);
    if (users.length > 0) {
      throw new DomainError(
        ErrorCode.Conflict,
        `targetEntity cannot change to ${target}: segments use this ${current.targetEntity} segment with inSegment: ${names(users)}`,
        { details: { field: 'targetEntity', usedBy: users.map((user) => user.id) } },
      );
    }
    if (await this.memberships.hasAny(current.id)) {
      throw new DomainError(
        ErrorCode.Conflict,
        `targetEntity cannot change to ${target}: the segment has been evaluated and has ${current.targetEntity} memberships; create a new segment instead`,
        { details: { field: 'targetEntity' } },
      );
    }
  }

  async delete(id: string): Promise<string> {
    requireRole(this.deps.principal, 'editor');
    const users = await this.segments.findUsers([id]);
    if (users.length > 0) {
      throw new DomainError(ErrorCode.Conflict, `Segment ${JSON.stringify(id)} is used with inSegment by ${names(users)}; change or delete those first`, {
        details: { id, usedBy: users.map((user) => user.id) },
      });
    }
    // Issue 10: refused while the segment is activated (held by an activation until it is deactivated).
    const held = await this.holds?.holdersOf(id);
    if (held && held.count > 0) {
      throw new DomainError(ErrorCode.Conflict, `Segment ${JSON.stringify(id)} is held by ${held.holders.join(', ')}${held.count > held.holders.length ? ` and ${held.count - held.holders.length} more` : ''}; deactivate those first`, {
        details: { id, heldBy: held.holders, holdCount: held.count },
      });
    }
    if (!(await this.segments.delete(id))) throw notFound('Segment', id);
    await this.memberships.deleteAll(id);
    return id;
  }

  watchChanges(segmentId?: string | null): Promise<ChangeIterator<SegmentChange>> {
    return this.segments.watch(segmentId ?? undefined);
  }
}
