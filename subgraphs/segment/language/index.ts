/**
 * The segment language's public surface (CONTRACT: the segment subgraph and the
 * evaluation code import only this file). Pure: no GraphQL, no MongoDB.
 */
import type { Expr, TargetEntity } from './ast.js';
import type { Member } from './member.js';

export * from './ast.js';
export * from './member.js';

export { SegmentLanguageError } from './errors.js';
export { LIMITS } from './limits.js';
export { parseSegment } from './parser.js';
export { compileSegment } from './compile.js';
export { checkSegment } from './checker.js';
export { printSegment } from './printer.js';
export { compilePredicate } from './predicate.js';
export { explainMember } from './explain.js';
export { isTimeDependent, nextChangeTime } from './timing.js';
export { eventRelevance, EVERY_EVENT, NO_EVENT, type EventRelevance } from './eventRelevance.js';

export interface CheckOptions {
  target: TargetEntity;
  /** The target of another segment by id (for `inSegment`), undefined when the sandbox has none. */
  segmentTarget?: (segmentId: string) => TargetEntity | undefined;
}

export interface CheckedSegment {
  expr: Expr;
  /** The expression printed canonically. */
  canonical: string;
  /** Segment ids used with `inSegment`, each once, in order of appearance. */
  dependsOn: string[];
  /** Whether the result can change with time alone (uses `now` or an `occurs ... before now` window). */
  timeDependent: boolean;
}

export type Predicate = (member: Member, now: Date) => boolean;

/** One node of an explanation: the condition, its value for the member, and what decided it. */
export interface ExplainNode {
  /** The node printed canonically, e.g. `account.annualRevenue >= 100000000`. */
  condition: string;
  /** Whether it held (for `count`, the comparison's outcome). */
  value: boolean;
  /** The field value read, the count found, the matching elements' ids, the related record used. */
  evidence?: {
    /** The value read at the path (null when missing). */
    actual?: unknown;
    /** For relation conditions: how many elements matched, and the ids of those that did (at most 50). */
    count?: number;
    matchingIds?: string[];
    /** For `account.<field>`: the primary account's id. */
    recordId?: string | null;
  };
  children: ExplainNode[];
}
