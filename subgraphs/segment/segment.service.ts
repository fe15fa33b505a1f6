/**
 * Segment definition rules. Definitions are stored here; evaluation comes with
 * the segment engine. Any caller reads and watches; changing definitions needs
 * the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ChangeIterator } from '../../lib/subgraph/changeStream.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { definedFields, optionalText, requiredText } from '../../lib/subgraph/validation.js';
import type { SegmentChange, SegmentFields, SegmentRecord, SegmentsRepository, TargetEntity } from './segments.repository.js';

export const MAX_NAME_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_EXPRESSION_LENGTH = 20_000;
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

function expression(value: string | null | undefined): string {
  if (value == null || value.trim() === '') {
    throw badInput('expression is required: write the condition in the segment language, e.g. jobTitle.contains("vp", false)', {
      field: 'expression',
    });
  }
  if (value.length > MAX_EXPRESSION_LENGTH) {
    throw badInput(`expression must be at most ${MAX_EXPRESSION_LENGTH} characters (got ${value.length})`, { field: 'expression' });
  }
  return value.trim();
}

function targetEntity(value: string): TargetEntity {
  if (!TARGET_ENTITIES.includes(value as TargetEntity)) {
    throw badInput(`targetEntity must be one of ${TARGET_ENTITIES.join(', ')}`, { field: 'targetEntity' });
  }
  return value as TargetEntity;
}

export class SegmentService {
  constructor(
    private readonly segments: SegmentsRepository,
    private readonly deps: ServiceDeps,
  ) {}

  list(args: PageArgs & { targetEntity?: TargetEntity | null }): Promise<SegmentRecord[]> {
    return this.segments.list(parsePageArgs(args), args.targetEntity ?? undefined);
  }

  create(input: CreateSegmentInput): Promise<SegmentRecord> {
    requireRole(this.deps.principal, 'editor');
    const now = this.deps.now();
    return this.segments.insert({
      id: this.deps.ids('seg'),
      name: requiredText(input.name, 'name', MAX_NAME_LENGTH),
      description: optionalText(input.description, 'description', MAX_DESCRIPTION_LENGTH) ?? null,
      expression: expression(input.expression),
      targetEntity: targetEntity(input.targetEntity),
      createdAt: now,
      updatedAt: now,
    });
  }

  async update(id: string, input: UpdateSegmentInput): Promise<SegmentRecord> {
    requireRole(this.deps.principal, 'editor');
    const fields = definedFields<SegmentFields>({
      name: input.name === undefined ? undefined : requiredText(input.name, 'name', MAX_NAME_LENGTH),
      description: optionalText(input.description, 'description', MAX_DESCRIPTION_LENGTH),
      expression: input.expression === undefined ? undefined : expression(input.expression),
      targetEntity: input.targetEntity == null ? undefined : targetEntity(input.targetEntity),
    });
    const updated = await this.segments.update(id, fields, this.deps.now());
    if (!updated) throw notFound('Segment', id);
    return updated;
  }

  async delete(id: string): Promise<string> {
    requireRole(this.deps.principal, 'editor');
    if (!(await this.segments.delete(id))) throw notFound('Segment', id);
    return id;
  }

  watchChanges(segmentId?: string | null): Promise<ChangeIterator<SegmentChange>> {
    return this.segments.watch(segmentId ?? undefined);
  }
}
