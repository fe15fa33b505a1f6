/**
 * How a segment depends on time alone: whether it does at all, and for one
 * unchanged member, the next instant its value could change because a window
 * opened or closed or `now` passed a date. The streaming evaluator schedules a
 * re-evaluation at that instant instead of waiting for the nightly run.
 */
import type { Expr, Scalar, TargetEntity } from './ast.js';
import { UNIT_MS } from './grammar.js';
import type { Member } from './member.js';
import { printSegment } from './printer.js';
import { sharedQuestion } from './sharedAnswers.js';
import { asScope, relationElements } from './predicate.js';
import { compileReader, type Scope } from './values.js';

/** Whether the result can change with time alone (uses `now` or an `occurs ... before now` window). */
export function isTimeDependent(expr: Expr): boolean {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return expr.operands.some(isTimeDependent);
    case 'not':
      return isTimeDependent(expr.operand);
    case 'quantifier':
    case 'count':
      return expr.condition !== null && isTimeDependent(expr.condition);
    case 'compare':
    case 'includes':
      return expr.value.type === 'now';
    case 'in':
    case 'intersects':
      return expr.values.some(isNow);
    case 'occurs':
      return expr.window.kind === 'before' || isNow(expr.window.from) || isNow(expr.window.to);
    default:
      return false;
  }
}

const isNow = (scalar: Scalar) => scalar.type === 'now';

/**
 * The earliest time after `now` at which the predicate's value for this member,
 * its data unchanged, could change; null if never. It may be earlier than the real
 * change (an `and` whose other side is false, say): evaluating then changes nothing
 * and asking again gives the next instant.
 */
export function nextChangeTime(expr: Expr, target: TargetEntity, member: Member, now: Date): Date | null {
  void target;
  const walk = walkerOf(expr);
  if (!walk) return null;
  const earliest = new Earliest(now.getTime());
  walk(member as unknown as Scope, earliest);
  return earliest.instant === Infinity ? null : new Date(earliest.instant);
}

/** The earliest instant after `now` offered so far. */
class Earliest {
  instant = Infinity;

  constructor(readonly nowMs: number) {}

  consider(instant: number): void {
    if (instant > this.nowMs && instant < this.instant) this.instant = instant;
  }
}

/** Offers every instant at which the expression's value could change with time alone, for one scope. */
type Walker = (scope: Scope, earliest: Earliest) => void;

/**
 * Per expression node, compiled once: the streaming evaluator asks for every time-dependent
 * segment of every member it evaluates, and the walk visits each element of each relation.
 * Null for a node whose value does not depend on time.
 */
const walkers = new WeakMap<Expr, Walker | null>();

function walkerOf(expr: Expr): Walker | null {
  let walker = walkers.get(expr);
  if (walker === undefined) {
    walker = isTimeDependent(expr) ? compileWalker(expr) : null;
    walkers.set(expr, walker);
  }
  return walker;
}

/**
 * A walk over a relation's elements, shared by the segments with the same relation and condition
 * (sharedAnswers.ts): its earliest instant is worked out once per member and time.
 */
function sharedWalk(relation: string, condition: Expr, walk: Walker): Walker {
  const earliestOf = sharedQuestion(`${relation}\u0000walk\u0000${printSegment(condition)}`, () => (scope, nowMs) => {
    const own = new Earliest(nowMs);
    walk(scope, own);
    return own.instant;
  });
  return (scope, earliest) => earliest.consider(earliestOf(scope, earliest.nowMs));
}

function compileWalker(expr: Expr): Walker | null {
  switch (expr.kind) {
    case 'and':
    case 'or': {
      const parts = expr.operands.map(walkerOf).filter((walker): walker is Walker => walker !== null);
      return (scope, earliest) => {
        for (const part of parts) part(scope, earliest);
      };
    }
    case 'not':
      return walkerOf(expr.operand);
    case 'quantifier':
    case 'count': {
      const condition = expr.condition ? walkerOf(expr.condition) : null;
      if (!condition) return null;
      const relation = expr.relation;
      return sharedWalk(relation, expr.condition!, (scope, earliest) => {
        for (const element of relationElements(scope, relation)) condition(asScope(element), earliest);
      });
    }
    case 'compare':
    case 'in': {
      // `= now`, `< now`, ...: the value flips when `now` reaches the date or passes it.
      const read = compileReader(expr.path);
      return (scope, earliest) => reachedOrPassed(read(scope), earliest);
    }
    case 'includes':
    case 'intersects': {
      const read = compileReader(expr.path);
      return (scope, earliest) => {
        const values = read(scope);
        if (Array.isArray(values)) for (const value of values) reachedOrPassed(value, earliest);
      };
    }
    case 'occurs': {
      const read = compileReader(expr.path);
      const window = expr.window;
      return (scope, earliest) => {
        const t = timeOf(read(scope));
        if (t !== null) windowChanges(window, t, earliest);
      };
    }
    default:
      return null;
  }
}

function timeOf(value: unknown): number | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.getTime() : null;
}

function reachedOrPassed(value: unknown, earliest: Earliest): void {
  const t = timeOf(value);
  if (t === null) return;
  earliest.consider(t);
  earliest.consider(t + 1);
}

/** The instants (in ms) at which `t occurs <window>` changes value as `now` moves forward. */
function windowChanges(window: Extract<Expr, { kind: 'occurs' }>['window'], t: number, earliest: Earliest): void {
  if (window.kind === 'between') {
    if (window.to.type === 'now') earliest.consider(t); // t <= now starts to hold at now = t
    if (window.from.type === 'now') earliest.consider(t + 1); // now <= t stops holding just after t
    return;
  }
  const edge = t + window.amount * UNIT_MS[window.unit];
  if (!Number.isInteger(edge)) {
    // A fractional duration: the first whole millisecond at either side of the edge, conservatively.
    earliest.consider(Math.floor(edge));
    earliest.consider(Math.floor(edge) + 1);
    if (window.op === '<=' || window.op === '<') earliest.consider(t);
    return;
  }
  switch (window.op) {
    case '<=': // holds for t <= now <= edge
      earliest.consider(t);
      earliest.consider(edge + 1);
      return;
    case '<': // holds for t <= now < edge
      earliest.consider(t);
      earliest.consider(edge);
      return;
    case '>=': // holds for now >= edge
      earliest.consider(edge);
      return;
    case '>': // holds for now > edge
      earliest.consider(edge + 1);
      return;
  }
}
