/**
 * Explain: why a member is or is not in a segment now. The member document is
 * loaded as the in-memory back end sees it (evaluation/memberLoader.ts) and the
 * language's `explainMember` walks the segment's tree at the request's time, so
 * the answer is the one the next evaluation would give; the stored status says
 * what the latest evaluation decided.
 */
import { notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import type { JsonObject, JsonValue } from '../../lib/subgraph/scalars.js';
import type { ExpressionService } from './expression.service.js';
import { explainMember, type ExplainNode, type Member } from './language/index.js';
import type { MembershipStatus } from './memberships.layout.js';
import type { SegmentRecord, SegmentsRepository, TargetEntity } from './segments.repository.js';

export interface ExplanationNode {
  condition: string;
  value: boolean;
  evidence: JsonObject | null;
  children: ExplanationNode[];
}

export interface MembershipExplanation {
  segment: SegmentRecord;
  memberId: string;
  qualifies: boolean;
  status: MembershipStatus | null;
  evaluatedAt: Date;
  tree: ExplanationNode;
}

export interface ExplainPorts {
  segments: SegmentsRepository;
  expressions: ExpressionService;
  /** Member documents, in the order of `ids`, null for an id that is no member of that target. */
  loadMembers(target: TargetEntity, ids: readonly string[]): Promise<Array<Member | null>>;
  /** The stored membership's status, null when there is none. */
  storedStatus(segmentId: string, memberId: string): Promise<MembershipStatus | null>;
}

/** Evidence as JSON: dates as ISO strings, nothing that JSON cannot hold. */
function toJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'object': {
      const object: JsonObject = {};
      for (const [key, item] of Object.entries(value)) if (item !== undefined) object[key] = toJson(item);
      return object;
    }
    default:
      return null;
  }
}

function toNode(node: ExplainNode): ExplanationNode {
  const evidence = node.evidence ? toJson(node.evidence) : null;
  return {
    condition: node.condition,
    value: node.value,
    evidence: evidence && typeof evidence === 'object' && !Array.isArray(evidence) ? evidence : null,
    children: node.children.map(toNode),
  };
}

export class ExplainService {
  constructor(
    private readonly ports: ExplainPorts,
    private readonly deps: ServiceDeps,
  ) {}

  async explain(segmentId: string, memberId: string): Promise<MembershipExplanation> {
    const [segment] = await this.ports.segments.findByIds([segmentId]);
    if (!segment) throw notFound('Segment', segmentId);
    const [[member], status] = await Promise.all([
      this.ports.loadMembers(segment.targetEntity, [memberId]),
      this.ports.storedStatus(segmentId, memberId),
    ]);
    if (!member) throw notFound(segment.targetEntity === 'PERSON' ? 'Profile' : 'Account', memberId);
    const { expr } = await this.ports.expressions.compile(segment.expression, segment.targetEntity);
    const evaluatedAt = this.deps.now();
    const tree = toNode(explainMember(expr, segment.targetEntity, member, evaluatedAt));
    return { segment, memberId, qualifies: tree.value, status, evaluatedAt, tree };
  }
}
