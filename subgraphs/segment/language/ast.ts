/**
 * The segment language's syntax tree: what the parser produces, the checker
 * validates, the printer writes back, and both back ends (the MongoDB pipeline
 * and the compiled predicate) translate. Pure data: no GraphQL, no MongoDB.
 *
 * Every node may carry the `span` of the text it came from (for error positions
 * and explain); spans are not part of a tree's meaning, so two trees that differ
 * only in spans are equal (see `withoutSpans`).
 */

export type TargetEntity = 'PERSON' | 'ACCOUNT';

/** 1-based line and column, 0-based offset into the expression text. */
export interface Position {
  line: number;
  column: number;
  offset: number;
}

export interface Span {
  start: Position;
  end: Position;
}

/** A field path relative to the current scope, e.g. ['consents', 'marketingEmail'] or ['account', 'annualRevenue']. */
export type Path = readonly string[];

/** A literal value. Dates are epoch milliseconds (UTC); `now` is the evaluation time. */
export type Scalar =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'date'; value: number }
  | { type: 'now' };

export type ComparisonOperator = '=' | '!=' | '>' | '>=' | '<' | '<=';

export type TimeUnit = 'minutes' | 'hours' | 'days' | 'weeks' | 'months';

/** `path occurs <op> N unit before now`, or `path occurs between A and B` (inclusive). */
export type TimeWindow =
  | { kind: 'before'; op: '<=' | '<' | '>=' | '>'; amount: number; unit: TimeUnit }
  | { kind: 'between'; from: Scalar; to: Scalar };

/** Collections reachable from a member: `events`, `accounts`, `opportunities` on a person; `people`, `opportunities` on an account; `events` on a person inside `people`. */
export type RelationName = 'events' | 'accounts' | 'opportunities' | 'people';

export type Quantifier = 'any' | 'all' | 'none';

export type StringFunction = 'contains' | 'startsWith' | 'endsWith';

interface Node {
  span?: Span;
}

export interface AndNode extends Node {
  kind: 'and';
  operands: Expr[];
}
export interface OrNode extends Node {
  kind: 'or';
  operands: Expr[];
}
export interface NotNode extends Node {
  kind: 'not';
  operand: Expr;
}
/** `path <op> value`. */
export interface CompareNode extends Node {
  kind: 'compare';
  path: Path;
  op: ComparisonOperator;
  value: Scalar;
}
/** `path in [...]` or `path notIn [...]`. */
export interface InNode extends Node {
  kind: 'in';
  path: Path;
  negated: boolean;
  values: Scalar[];
}
/** `exists(path)`. */
export interface ExistsNode extends Node {
  kind: 'exists';
  path: Path;
}
/** `path.contains("x")`, `.contains("x", false)`, `.startsWith("x")`, `.endsWith("x")`. */
export interface StringMatchNode extends Node {
  kind: 'stringMatch';
  path: Path;
  fn: StringFunction;
  value: string;
  caseSensitive: boolean;
}
/** `path.matches("regex")`: an unanchored search. */
export interface MatchesNode extends Node {
  kind: 'matches';
  path: Path;
  pattern: string;
}
/** `path like "%pricing%"`: `%` any run, `_` one character, case-sensitive. */
export interface LikeNode extends Node {
  kind: 'like';
  path: Path;
  pattern: string;
}
/** `path occurs ...`. */
export interface OccursNode extends Node {
  kind: 'occurs';
  path: Path;
  window: TimeWindow;
}
/** `path.includes(value)`: an array field holds the value. */
export interface IncludesNode extends Node {
  kind: 'includes';
  path: Path;
  value: Scalar;
}
/** `path.intersects([...])`: an array field holds at least one of the values. */
export interface IntersectsNode extends Node {
  kind: 'intersects';
  path: Path;
  values: Scalar[];
}
/** `relation.any(cond)`, `.all(cond)`, `.none(cond)`; a null condition means every element. */
export interface QuantifierNode extends Node {
  kind: 'quantifier';
  relation: RelationName;
  quantifier: Quantifier;
  condition: Expr | null;
}
/** `relation.count(cond) <op> n`; a null condition counts every element. */
export interface CountNode extends Node {
  kind: 'count';
  relation: RelationName;
  condition: Expr | null;
  op: ComparisonOperator;
  value: number;
}
/** `inSegment("segment-id")`: the member (of the current scope) is in that segment now. */
export interface InSegmentNode extends Node {
  kind: 'inSegment';
  segmentId: string;
}
/** `true` or `false` on its own. */
export interface ConstantNode extends Node {
  kind: 'constant';
  value: boolean;
}

export type Expr =
  | AndNode
  | OrNode
  | NotNode
  | CompareNode
  | InNode
  | ExistsNode
  | StringMatchNode
  | MatchesNode
  | LikeNode
  | OccursNode
  | IncludesNode
  | IntersectsNode
  | QuantifierNode
  | CountNode
  | InSegmentNode
  | ConstantNode;

/** A copy of the tree without spans, for comparing trees by meaning. */
export function withoutSpans<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withoutSpans) as T;
  if (node && typeof node === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) if (key !== 'span') copy[key] = withoutSpans(value);
    return copy as T;
  }
  return node;
}
