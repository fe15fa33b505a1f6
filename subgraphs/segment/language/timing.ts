/**
 * How a segment depends on time alone: whether it does at all, and for one
 * unchanged member, the next instant its value could change because a window
 * opened or closed or `now` passed a date. The streaming evaluator schedules a
 * re-evaluation at that instant instead of waiting for the nightly run.
 */
import type { Expr, Path, Scalar, TargetEntity } from './ast.js';
import { UNIT_MS } from './grammar.js';
import type { Member } from './member.js';
import { asScope, relationElements } from './predicate.js';
import { compileReader, type Reader, type Scope } from './values.js';

/**
 * Per expression node, once: nextChangeTime asks it of every node for every element of every
 * relation it walks, and a compiled segment's tree does not change.
 */
const timeDependence = new WeakMap<Expr, boolean>();
/** Per path node, once, for the same reason. */
const readers = new WeakMap<Path, Reader>();

/** Whether the result can change with time alone (uses `now` or an `occurs ... before now` window). */
export function isTimeDependent(expr: Expr): boolean {
  let known = timeDependence.get(expr);
  if (known === undefined) {
    known = dependsOnTime(expr);
    timeDependence.set(expr, known);
  }
  return known;
}

function readerOf(path: Path): Reader {
  let reader = readers.get(path);
  if (!reader) {
    reader = compileReader(path);
    readers.set(path, reader);
  }
  return reader;
}

function dependsOnTime(expr: Expr): boolean {
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
  const nowMs = now.getTime();
  let earliest = Infinity;
  const consider = (instant: number) => {
    if (instant > nowMs && instant < earliest) earliest = instant;
  };
  visit(expr, member as unknown as Scope, consider);
  return earliest === Infinity ? null : new Date(earliest);
}

type Consider = (instant: number) => void;

function visit(expr: Expr, scope: Scope, consider: Consider): void {
  if (!isTimeDependent(expr)) return;
  switch (expr.kind) {
    case 'and':
    case 'or':
      for (const operand of expr.operands) visit(operand, scope, consider);
      return;
    case 'not':
      return visit(expr.operand, scope, consider);
    case 'quantifier':
    case 'count':
      for (const element of relationElements(scope, expr.relation)) visit(expr.condition as Expr, asScope(element), consider);
      return;
    case 'compare':
    case 'in':
      // `= now`, `< now`, ...: the value flips when `now` reaches the date or passes it.
      return datesAt(readerOf(expr.path)(scope), false, (t) => {
        consider(t);
        consider(t + 1);
      });
    case 'includes':
    case 'intersects':
      return datesAt(readerOf(expr.path)(scope), true, (t) => {
        consider(t);
        consider(t + 1);
      });
    case 'occurs':
      return datesAt(readerOf(expr.path)(scope), false, (t) => windowChanges(expr.window, t, consider));
    default:
      return;
  }
}

function datesAt(value: unknown, inArray: boolean, each: (t: number) => void): void {
  const values = inArray ? (Array.isArray(value) ? value : []) : [value];
  for (const candidate of values) {
    if (candidate instanceof Date && !Number.isNaN(candidate.getTime())) each(candidate.getTime());
  }
}

/** The instants (in ms) at which `t occurs <window>` changes value as `now` moves forward. */
function windowChanges(window: Extract<Expr, { kind: 'occurs' }>['window'], t: number, consider: Consider): void {
  if (window.kind === 'between') {
    if (window.to.type === 'now') consider(t); // t <= now starts to hold at now = t
    if (window.from.type === 'now') consider(t + 1); // now <= t stops holding just after t
    return;
  }
  const edge = t + window.amount * UNIT_MS[window.unit];
  if (!Number.isInteger(edge)) {
    // A fractional duration: the first whole millisecond at either side of the edge, conservatively.
    consider(Math.floor(edge));
    consider(Math.floor(edge) + 1);
    if (window.op === '<=' || window.op === '<') consider(t);
    return;
  }
  switch (window.op) {
    case '<=': // holds for t <= now <= edge
      consider(t);
      consider(edge + 1);
      return;
    case '<': // holds for t <= now < edge
      consider(t);
      consider(edge);
      return;
    case '>=': // holds for now >= edge
      consider(edge);
      return;
    case '>': // holds for now > edge
      consider(edge + 1);
      return;
  }
}
