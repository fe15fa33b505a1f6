/**
 * The in-memory back end: the tree becomes nested closures once per segment, so
 * evaluating a member is plain function calls (no walk over nodes, no switch on
 * their kinds, no allocation), and regular expressions are compiled once.
 */
import type { ComparisonOperator, CountNode, Expr, QuantifierNode, TargetEntity } from './ast.js';
import { UNIT_MS } from './grammar.js';
import type { Predicate } from './index.js';
import type { Member } from './member.js';
import { printSegment } from './printer.js';
import { sharedQuestion, type Question } from './sharedAnswers.js';
import {
  compileComparison,
  compileEquals,
  compileLike,
  compileMatches,
  compileMembership,
  compileReader,
  compileStringMatch,
  compileWindowTest,
  someElement,
  type Scope,
  type ValueTest,
} from './values.js';

/** A compiled condition on one scope (the member or a relation element). */
export type Test = (scope: Scope, now: number) => boolean;

/** Closures built once per segment; no tree walk per member. The semantics are the same for both targets. */
export function compilePredicate(expr: Expr, target: TargetEntity): Predicate {
  void target;
  const test = compileTest(expr);
  return (member: Member, now: Date) => test(member as unknown as Scope, now.getTime());
}

/** The value test of a condition on a path (every leaf kind but exists, relations, inSegment and constants). */
export function compileValueTest(expr: Expr): ValueTest | undefined {
  switch (expr.kind) {
    case 'compare':
      return compileComparison(expr.op, expr.value);
    case 'in': {
      const member = compileMembership(expr.values);
      return expr.negated ? (value, now) => value === undefined || value === null || !member(value, now) : member;
    }
    case 'exists':
      return (value) => value !== undefined && value !== null;
    case 'stringMatch':
      return compileStringMatch(expr.fn, expr.value, expr.caseSensitive);
    case 'matches':
      return compileMatches(expr.pattern);
    case 'like':
      return compileLike(expr.pattern);
    case 'occurs': {
      const window = expr.window;
      return compileWindowTest(
        window.kind === 'between' ? window : { kind: 'before', op: window.op, duration: window.amount * UNIT_MS[window.unit] },
      );
    }
    case 'includes':
      return someElement(compileEquals(expr.value));
    case 'intersects':
      return someElement(compileMembership(expr.values));
    default:
      return undefined;
  }
}

export function compileTest(expr: Expr): Test {
  switch (expr.kind) {
    case 'and':
      return compileAnd(expr.operands.map(compileTest));
    case 'or':
      return compileOr(expr.operands.map(compileTest));
    case 'not': {
      const fused = compileNotEquals(expr.operand);
      if (fused) return fused;
      const operand = compileTest(expr.operand);
      return (scope, now) => !operand(scope, now);
    }
    case 'constant': {
      const value = expr.value;
      return () => value;
    }
    case 'quantifier':
      return compileQuantifier(expr);
    case 'count':
      return compileCount(expr);
    case 'inSegment': {
      const id = expr.segmentId;
      return (scope) => {
        const segments = scope.segments;
        return Array.isArray(segments) && segments.includes(id);
      };
    }
    default: {
      const direct = compileDirectEquals(expr) ?? compileFusedLeaf(expr);
      if (direct) return direct;
      const read = compileReader(expr.path);
      const test = compileValueTest(expr) as ValueTest;
      return (scope, now) => test(read(scope), now);
    }
  }
}

/** `field = "text"`, `field = 42` or `field = true` on a plain one- or two-key path, as one closure (the commonest leaf). */
function compileDirectEquals(expr: Expr): Test | undefined {
  if (expr.kind !== 'compare' || expr.op !== '=' || (expr.value.type !== 'string' && expr.value.type !== 'number' && expr.value.type !== 'boolean')) return undefined;
  const keys = expr.path;
  if (keys.length > 2 || keys.some((key) => key in Object.prototype)) return undefined;
  const v = expr.value.value;
  if (keys.length === 1) {
    const [key] = keys;
    return (scope) => scope[key!] === v;
  }
  const [first, second] = keys;
  return (scope) => {
    const parent = scope[first!];
    return typeof parent === 'object' && parent !== null && !Array.isArray(parent) && (parent as Record<string, unknown>)[second!] === v;
  };
}

/** A path of one or two plain keys (none on Object.prototype), read inline by the fused leaves below. */
function plainPath(path: readonly string[]): readonly [string] | readonly [string, string] | undefined {
  if (path.length > 2 || path.some((key) => key in Object.prototype)) return undefined;
  return path as readonly [string] | readonly [string, string];
}

function childOf(parent: unknown, key: string): unknown {
  return typeof parent === 'object' && parent !== null && !Array.isArray(parent) ? (parent as Record<string, unknown>)[key] : undefined;
}

/** `not path = v` on a plain path: the value is not v (a missing one included), as one closure. */
function compileNotEquals(expr: Expr): Test | undefined {
  if (expr.kind !== 'compare' || expr.op !== '=' || (expr.value.type !== 'string' && expr.value.type !== 'number' && expr.value.type !== 'boolean')) return undefined;
  const keys = plainPath(expr.path);
  if (!keys) return undefined;
  const v = expr.value.value;
  const [first, second] = keys;
  if (second === undefined) return (scope) => scope[first] !== v;
  return (scope) => childOf(scope[first], second) !== v;
}

/**
 * The commonest leaves on a plain path (a number ordering, `!=` a literal, `in` / `notIn` a short
 * list, a recent-time window) read and test in one closure, with the semantics of `values.ts`: fewer calls per member,
 * and no call site shared by every leaf of every segment.
 */
function compileFusedLeaf(expr: Expr): Test | undefined {
  if (expr.kind !== 'compare' && expr.kind !== 'in' && expr.kind !== 'occurs') return undefined;
  const keys = plainPath(expr.path);
  if (!keys) return undefined;
  const [first, second] = keys;
  if (expr.kind === 'occurs') {
    // `field occurs <= N unit before now` (or `<`) on a top-level field, as compileWindowTest decides it.
    const window = expr.window;
    if (second !== undefined || window.kind !== 'before' || (window.op !== '<=' && window.op !== '<')) return undefined;
    const duration = window.amount * UNIT_MS[window.unit];
    const inclusive = window.op === '<=';
    return (scope, now) => {
      const value = scope[first];
      if (!(value instanceof Date)) return false;
      const t = value.getTime();
      return (inclusive ? now - duration <= t : now - duration < t) && t <= now;
    };
  }
  if (expr.kind === 'compare') {
    const literal = expr.value;
    if (expr.op === '!=' && (literal.type === 'string' || literal.type === 'number' || literal.type === 'boolean')) {
      const v = literal.value;
      if (second === undefined) {
        return (scope) => {
          const value = scope[first];
          return value !== undefined && value !== null && value !== v;
        };
      }
      return (scope) => {
        const value = childOf(scope[first], second);
        return value !== undefined && value !== null && value !== v;
      };
    }
    if (literal.type !== 'number' || expr.op === '=' || expr.op === '!=') return undefined;
    const n = literal.value;
    // As numberOrder in values.ts: a number value only, and an infinity never passes its own side's bound.
    switch (expr.op) {
      case '>=':
        return second === undefined
          ? (scope) => { const value = scope[first]; return typeof value === 'number' && value >= n && value !== Infinity; }
          : (scope) => { const value = childOf(scope[first], second); return typeof value === 'number' && value >= n && value !== Infinity; };
      case '>':
        return second === undefined
          ? (scope) => { const value = scope[first]; return typeof value === 'number' && value > n && value !== Infinity; }
          : (scope) => { const value = childOf(scope[first], second); return typeof value === 'number' && value > n && value !== Infinity; };
      case '<=':
        return second === undefined
          ? (scope) => { const value = scope[first]; return typeof value === 'number' && value <= n && value !== -Infinity; }
          : (scope) => { const value = childOf(scope[first], second); return typeof value === 'number' && value <= n && value !== -Infinity; };
      case '<':
        return second === undefined
          ? (scope) => { const value = scope[first]; return typeof value === 'number' && value < n && value !== -Infinity; }
          : (scope) => { const value = childOf(scope[first], second); return typeof value === 'number' && value < n && value !== -Infinity; };
    }
  }
  if (expr.values.length > 3 || !expr.values.every((scalar) => scalar.type === 'string' || scalar.type === 'number')) return undefined;
  // Absent literals are undefined, which a present value never equals.
  const [a, b, c] = expr.values.map((scalar) => (scalar as { value: string | number }).value);
  if (expr.negated) {
    return second === undefined
      ? (scope) => { const value = scope[first]; return value === undefined || value === null || !(value === a || value === b || value === c); }
      : (scope) => { const value = childOf(scope[first], second); return value === undefined || value === null || !(value === a || value === b || value === c); };
  }
  return second === undefined
    ? (scope) => { const value = scope[first]; return value !== undefined && (value === a || value === b || value === c); }
    : (scope) => { const value = childOf(scope[first], second); return value !== undefined && (value === a || value === b || value === c); };
}

function compileAnd(tests: Test[]): Test {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  if (tests.length === 2) {
    const [a, b] = tests;
    return (scope, now) => a(scope, now) && b(scope, now);
  }
  if (tests.length === 3) {
    const [a, b, c] = tests;
    return (scope, now) => a(scope, now) && b(scope, now) && c(scope, now);
  }
  if (tests.length === 4) {
    const [a, b, c, d] = tests;
    return (scope, now) => a(scope, now) && b(scope, now) && c(scope, now) && d(scope, now);
  }
  return (scope, now) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](scope, now)) return false;
    return true;
  };
}

function compileOr(tests: Test[]): Test {
  if (tests.length === 0) return () => false;
  if (tests.length === 1) return tests[0];
  if (tests.length === 2) {
    const [a, b] = tests;
    return (scope, now) => a(scope, now) || b(scope, now);
  }
  return (scope, now) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](scope, now)) return true;
    return false;
  };
}

/** The elements of a relation; a missing relation (or anything but an array) is empty. */
export function relationElements(scope: Scope, relation: string): readonly unknown[] {
  const list = scope[relation];
  return Array.isArray(list) ? list : EMPTY;
}
const EMPTY: readonly unknown[] = [];
const NO_FIELDS: Scope = Object.freeze({});

/** An element that is not a document (a null in a malformed array) has no fields rather than failing the run. */
export function asScope(element: unknown): Scope {
  return element !== null && typeof element === 'object' ? (element as Scope) : NO_FIELDS;
}

/** Whether a condition reads the member's segments, which change while it is evaluated: its scans are not shared. */
function usesSegments(expr: Expr): boolean {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return expr.operands.some(usesSegments);
    case 'not':
      return usesSegments(expr.operand);
    case 'inSegment':
      return true;
    case 'quantifier':
    case 'count':
      return expr.condition !== null && usesSegments(expr.condition);
    default:
      return false;
  }
}

function compileQuantifier(expr: QuantifierNode): Test {
  const relation = expr.relation;
  if (!expr.condition) {
    if (expr.quantifier === 'all') return () => true;
    const wantAny = expr.quantifier === 'any';
    return (scope) => relationElements(scope, relation).length > 0 === wantAny;
  }
  const condition = compileTest(expr.condition);
  // any and none ask whether some element matches; all, whether some element misses.
  const stopOn = expr.quantifier === 'all' ? false : true;
  const scan = (): Question => (scope, now) => {
    const list = relationElements(scope, relation);
    for (let i = 0; i < list.length; i++) if (condition(asScope(list[i]), now) === stopOn) return 1;
    return 0;
  };
  // A scan shared by the segments with the same condition (sharedAnswers.ts).
  const found = usesSegments(expr.condition) ? scan() : sharedQuestion(`${relation}\u0000${stopOn ? 'some' : 'someNot'}\u0000${printSegment(expr.condition)}`, scan);
  // any: found a match; none: found none; all: found no miss.
  return expr.quantifier === 'any' ? (scope, now) => found(scope, now) === 1 : (scope, now) => found(scope, now) === 0;
}

function compileCount(expr: CountNode): Test {
  const relation = expr.relation;
  const compare = countComparison(expr.op, expr.value);
  if (!expr.condition) return (scope) => compare(relationElements(scope, relation).length);
  const condition = compileTest(expr.condition);
  const scan = (): Question => (scope, now) => {
    const list = relationElements(scope, relation);
    let count = 0;
    for (let i = 0; i < list.length; i++) if (condition(asScope(list[i]), now)) count++;
    return count;
  };
  const count = usesSegments(expr.condition) ? scan() : sharedQuestion(`${relation}\u0000count\u0000${printSegment(expr.condition)}`, scan);
  return (scope, now) => compare(count(scope, now));
}

export function countComparison(op: ComparisonOperator, n: number): (count: number) => boolean {
  switch (op) {
    case '=':
      return (count) => count === n;
    case '!=':
      return (count) => count !== n;
    case '>':
      return (count) => count > n;
    case '>=':
      return (count) => count >= n;
    case '<':
      return (count) => count < n;
    case '<=':
      return (count) => count <= n;
  }
}
