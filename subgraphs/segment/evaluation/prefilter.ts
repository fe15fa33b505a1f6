/**
 * A `$match` filter that every document satisfying a condition also satisfies, so it can run
 * first (on indexes) without changing the result; the exact decision stays in `$expr`.
 *
 * Only conditions whose MongoDB query form accepts a superset of what the language accepts are
 * used: equality and `in` (MongoDB also matches array elements and numbers of other BSON types),
 * numeric and date ranges (type bracketing keeps other kinds out), `exists`, `includes`,
 * `intersects` and time windows. Never `!=`, `notIn`, `not` (their MongoDB meanings include
 * MISSING), string ordering or patterns (left to `$expr`, whose string semantics are checked).
 */
import type { Document } from 'mongodb';
import type { Expr, Path, Scalar } from '../language/index.js';
import { MAX_DATE_MS, SAFE_FIELD, UNIT_MS } from './pipelineExpressions.js';
import { storedField } from './pipelineScopes.js';

function queryPath(path: Path, fields: ReadonlySet<string>): string | undefined {
  if (!fields.has(path[0]) || !path.every((key) => SAFE_FIELD.test(key))) return undefined;
  return [storedField(path[0]), ...path.slice(1)].join('.');
}

function value(scalar: Scalar, now: number): string | number | boolean | Date {
  if (scalar.type === 'now') return new Date(now);
  if (scalar.type === 'date') return new Date(scalar.value);
  return scalar.value;
}

/** A date bound inside every date's range, or undefined when the bound excludes nothing. */
function dateBound(ms: number, round: (x: number) => number): Date | undefined {
  const exact = round(ms);
  return Math.abs(exact) <= MAX_DATE_MS ? new Date(exact) : undefined;
}

function windowFilter(expr: Extract<Expr, { kind: 'occurs' }>, now: number): Document {
  const window = expr.window;
  let low: number | undefined;
  let high: number | undefined;
  if (window.kind === 'between') {
    low = window.from.type === 'date' ? window.from.value : now;
    high = window.to.type === 'date' ? window.to.value : now;
  } else {
    const edge = now - window.amount * UNIT_MS[window.unit];
    if (window.op === '<=' || window.op === '<') [low, high] = [edge, now];
    else high = edge;
  }
  const range: Document = {};
  const from = low === undefined ? undefined : dateBound(low, Math.floor);
  const to = high === undefined ? undefined : dateBound(high, Math.ceil);
  if (from) range.$gte = from;
  if (to) range.$lte = to;
  // Still only dates: a range on dates never matches another BSON type.
  return Object.keys(range).length > 0 ? range : { $type: 'date' };
}

function leafFilter(expr: Expr, fields: ReadonlySet<string>, now: number): Document | undefined {
  if (!('path' in expr)) return undefined;
  const path = queryPath(expr.path, fields);
  if (path === undefined) return undefined;
  switch (expr.kind) {
    case 'compare': {
      if (expr.op === '=') return { [path]: value(expr.value, now) };
      if (expr.op === '!=') return undefined;
      const kind = expr.value.type;
      if (kind !== 'number' && kind !== 'date' && kind !== 'now') return undefined;
      const operator = { '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' }[expr.op];
      return { [path]: { [operator]: value(expr.value, now) } };
    }
    case 'in':
      return expr.negated ? undefined : { [path]: { $in: expr.values.map((scalar) => value(scalar, now)) } };
    case 'exists':
      return { [path]: { $exists: true } };
    case 'occurs':
      return { [path]: windowFilter(expr, now) };
    case 'includes':
      return { [path]: value(expr.value, now) };
    case 'intersects':
      return { [path]: { $in: expr.values.map((scalar) => value(scalar, now)) } };
    default:
      return undefined;
  }
}

/**
 * The filter implied by `expr` on documents whose stored top-level fields include `fields`
 * (member field names; `id` is `_id`); undefined when nothing safe can be said.
 */
export function prefilter(expr: Expr, fields: ReadonlySet<string>, now: number): Document | undefined {
  switch (expr.kind) {
    case 'and': {
      const parts = expr.operands.map((operand) => prefilter(operand, fields, now)).filter((part): part is Document => part !== undefined);
      return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { $and: parts };
    }
    case 'or': {
      const parts = expr.operands.map((operand) => prefilter(operand, fields, now));
      if (parts.length === 0 || parts.some((part) => part === undefined)) return undefined;
      return parts.length === 1 ? parts[0] : { $or: parts };
    }
    default:
      return leafFilter(expr, fields, now);
  }
}
