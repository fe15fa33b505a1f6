/**
 * The segment language's public surface (CONTRACT: the segment subgraph and the
 * evaluation code import only this file). Pure: no GraphQL, no MongoDB.
 */
import type { Expr, TargetEntity } from './ast.js';
import type { Member } from './member.js';

export * from './ast.js';
export * from './member.js';

export const LIMITS = { expressionLength: 20_000, depth: 32, listValues: 1_000 } as const;

/** A syntax, type or limit error, with the 1-based line and column it points at. */
export class SegmentLanguageError extends Error {
  constructor(
    message: string,
    readonly kind: 'syntax' | 'type' | 'limit',
    readonly line: number,
    readonly column: number,
    /** What the parser expected at that point (syntax errors), e.g. ['")"', '"and"']. */
    readonly expected: readonly string[] = [],
    /** A likely intended name for an unknown field, e.g. "jobTitle". */
    readonly suggestion?: string,
  ) {
    super(message);
    this.name = 'SegmentLanguageError';
  }
}

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

/** Parses `text` into a tree; throws SegmentLanguageError (kind 'syntax' or 'limit'). */
export declare function parseSegment(text: string): Expr;

/** Parses and checks against the data model; throws SegmentLanguageError. */
export declare function compileSegment(text: string, options: CheckOptions): CheckedSegment;

/** Canonical text: parseSegment(printSegment(e)) equals e, spans aside. */
export declare function printSegment(expr: Expr): string;

export type Predicate = (member: Member, now: Date) => boolean;

/** Closures built once per segment; no tree walk per member. */
export declare function compilePredicate(expr: Expr, target: TargetEntity): Predicate;

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

export declare function explainMember(expr: Expr, target: TargetEntity, member: Member, now: Date): ExplainNode;
