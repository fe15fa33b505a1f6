/**
 * Which new events can change a person segment's result. An event added to a person changes
 * only what the segment's `events` conditions see: `.any(c)`, `.none(c)` and `.count(c)` see
 * the events that satisfy `c`, so an event that cannot satisfy `c` now or at any later time
 * leaves the result, and the next time it can change, as they were. The streaming evaluator
 * re-evaluates a person for the segments a new event can reach, not all of them.
 *
 * "Can satisfy" is decided in three values: a condition on the event's own fields is known
 * (an event does not change once stored; one sent again is a rewrite, which reaches every
 * segment), a condition on time is unknown (a window may open later), and unknown counts as
 * "can". A segment whose events relation has no condition or is `.all(c)` sees every event;
 * one that uses `inSegment` is always reached too (the segments it reads may change in the
 * same batch).
 */
import type { Expr } from './ast.js';
import { compileTest } from './predicate.js';
import { isTimeDependent } from './timing.js';
import type { Scope } from './values.js';

/** Whether an event (its fields and id, as a relation element) can change the segment's result. */
export type EventRelevance = (event: Scope, now: number) => boolean;

/** Every event can change the result. */
export const EVERY_EVENT = 'every';
/** No event can: the segment does not read events. */
export const NO_EVENT = 'none';

const FALSE = 0;
const TRUE = 1;
const UNKNOWN = 2;
type Truth = typeof FALSE | typeof TRUE | typeof UNKNOWN;
type TruthTest = (event: Scope, now: number) => Truth;

/** For a PERSON segment's expression: which events can change its result. */
export function eventRelevance(expr: Expr): EventRelevance | typeof EVERY_EVENT | typeof NO_EVENT {
  const conditions: Expr[] = [];
  if (!collectEventConditions(expr, conditions)) return EVERY_EVENT;
  if (conditions.length === 0) return NO_EVENT;
  const tests = conditions.map(compileTruth);
  return (event, now) => tests.some((test) => test(event, now) !== FALSE);
}

/** Gathers the conditions of the `events` relations; false when some event condition sees every event. */
function collectEventConditions(expr: Expr, into: Expr[]): boolean {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return expr.operands.every((operand) => collectEventConditions(operand, into));
    case 'not':
      return collectEventConditions(expr.operand, into);
    case 'inSegment':
      return false;
    case 'quantifier':
    case 'count':
      if (expr.relation !== 'events') return true; // accounts and opportunities: no events inside
      if (expr.condition === null || (expr.kind === 'quantifier' && expr.quantifier === 'all')) return false;
      into.push(expr.condition);
      return true;
    default:
      return true;
  }
}

/** A condition on one event in three values: time-dependent leaves are unknown. */
function compileTruth(expr: Expr): TruthTest {
  switch (expr.kind) {
    case 'and': {
      const operands = expr.operands.map(compileTruth);
      return (event, now) => {
        let result: Truth = TRUE;
        for (const operand of operands) {
          const value = operand(event, now);
          if (value === FALSE) return FALSE;
          if (value === UNKNOWN) result = UNKNOWN;
        }
        return result;
      };
    }
    case 'or': {
      const operands = expr.operands.map(compileTruth);
      return (event, now) => {
        let result: Truth = FALSE;
        for (const operand of operands) {
          const value = operand(event, now);
          if (value === TRUE) return TRUE;
          if (value === UNKNOWN) result = UNKNOWN;
        }
        return result;
      };
    }
    case 'not': {
      const operand = compileTruth(expr.operand);
      return (event, now) => {
        const value = operand(event, now);
        return value === UNKNOWN ? UNKNOWN : value === TRUE ? FALSE : TRUE;
      };
    }
    case 'quantifier':
    case 'count':
    case 'inSegment':
      return () => UNKNOWN;
    default: {
      if (isTimeDependent(expr)) return () => UNKNOWN;
      const test = compileTest(expr);
      return (event, now) => (test(event, now) ? TRUE : FALSE);
    }
  }
}
