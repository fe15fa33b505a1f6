/**
 * Conditions on a path as aggregation expressions (`$expr`), following the segment language's
 * semantics rather than MongoDB's: a path never descends into arrays and reads MISSING through a
 * missing, null or non-object step; every comparison first checks the value's kind, so arrays,
 * other kinds and MISSING never reach an operator whose MongoDB meaning differs (`$eq` on an array,
 * cross-type ordering, null equal to missing). Missing and null are read alike: both are MISSING.
 */
import type { ComparisonOperator, Expr, Path, Scalar, TimeUnit } from '../language/index.js';
import { containsPattern, likePattern, matchesPattern } from './pipelinePatterns.js';
import { ACCOUNT_FIELDS, PRIMARY_ACCOUNT_FIELD, storedField, type PipelineScope } from './pipelineScopes.js';

/** An aggregation expression. */
export type AggExpr = unknown;

/** Field names usable in a dotted path (`$a.b`); any other name is read with `$getField`. */
export const SAFE_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NOTHING = ['missing', 'null', 'undefined'];
export const UNIT_MS: Readonly<Record<TimeUnit, number>> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000,
  months: 30 * 86_400_000,
};
/** The range of a JavaScript Date (and of the dates both back ends can hold). */
export const MAX_DATE_MS = 8.64e15;

function fieldOf(input: string, key: string): AggExpr {
  return SAFE_FIELD.test(key) ? `${input}.${key}` : { $getField: { field: { $literal: key }, input } };
}

function topField(name: string): AggExpr {
  return SAFE_FIELD.test(name) ? `$${name}` : { $getField: { field: { $literal: name }, input: '$$CURRENT' } };
}

/** `key` of the object `parent`, or null when `parent` is not an object (an array, a scalar, MISSING). */
function child(parent: AggExpr, key: string): AggExpr {
  return { $let: { vars: { o: parent }, in: { $cond: [{ $eq: [{ $type: '$$o' }, 'object'] }, fieldOf('$$o', key), null] } } };
}

function walk(value: AggExpr, keys: readonly string[]): AggExpr {
  return keys.reduce<AggExpr>((parent, key) => child(parent, key), value);
}

/** The value at `path` in the level's current document; null when the scope has no such member field. */
export function pathValue(path: Path, scope: PipelineScope): AggExpr {
  const [head, ...rest] = path;
  if (scope.primaryAccount && head === 'account') {
    const account = { $arrayElemAt: [`$${PRIMARY_ACCOUNT_FIELD}`, 0] };
    if (rest.length === 0) return account;
    const [field, ...deeper] = rest;
    return ACCOUNT_FIELDS.has(field) ? walk(child(account, storedField(field)), deeper) : null;
  }
  if (!scope.fields.has(head)) return null;
  return walk(topField(storedField(head)), rest);
}

/** Whether the path reads the primary account (so the level needs it joined). */
export function readsPrimaryAccount(path: Path, scope: PipelineScope): boolean {
  return scope.primaryAccount && path[0] === 'account';
}

/** Binds a value once for a body that uses it several times (a plain field reference needs no binding). */
function withValue(value: AggExpr, body: (ref: AggExpr) => AggExpr): AggExpr {
  if (value === null || (typeof value === 'string' && !value.startsWith('$$'))) return body(value);
  return { $let: { vars: { v: value }, in: body('$$v') } };
}

const present = (v: AggExpr): AggExpr => ({ $not: [{ $in: [{ $type: v }, NOTHING] }] });
const isString = (v: AggExpr): AggExpr => ({ $eq: [{ $type: v }, 'string'] });
const isDate = (v: AggExpr): AggExpr => ({ $eq: [{ $type: v }, 'date'] });
const isBoolean = (v: AggExpr): AggExpr => ({ $eq: [{ $type: v }, 'bool'] });
const isNumber = (v: AggExpr): AggExpr => ({ $isNumber: v });
const and = (...operands: AggExpr[]): AggExpr => ({ $and: operands });

type Kind = 'string' | 'number' | 'boolean' | 'date';

function kindOf(scalar: Scalar): Kind {
  return scalar.type === 'now' ? 'date' : scalar.type;
}

function isKind(kind: Kind, v: AggExpr): AggExpr {
  switch (kind) {
    case 'string':
      return isString(v);
    case 'number':
      return isNumber(v);
    case 'boolean':
      return isBoolean(v);
    case 'date':
      return isDate(v);
  }
}

/** A literal as an expression; `now` is the evaluation time. */
export function literal(scalar: Scalar, now: number): AggExpr {
  switch (scalar.type) {
    case 'now':
      return new Date(now);
    case 'date':
      return new Date(scalar.value);
    default:
      return { $literal: scalar.value };
  }
}

const ORDER_OPERATORS = { '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' } as const;

function equals(v: AggExpr, scalar: Scalar, now: number): AggExpr {
  return and(isKind(kindOf(scalar), v), { $eq: [v, literal(scalar, now)] });
}

function compare(v: AggExpr, op: ComparisonOperator, scalar: Scalar, now: number): AggExpr {
  if (op === '=') return equals(v, scalar, now);
  if (op === '!=') return and(present(v), { $not: [equals(v, scalar, now)] });
  const kind = kindOf(scalar);
  const ordered = { [ORDER_OPERATORS[op]]: [v, literal(scalar, now)] };
  if (kind !== 'number') return and(isKind(kind, v), ordered);
  // Only finite numbers are ordered: MongoDB puts NaN below every number and orders infinities.
  const bound = op === '<' || op === '<=' ? { $gt: [v, -Infinity] } : { $lt: [v, Infinity] };
  return and(isNumber(v), ordered, bound);
}

/** `v = x` for some listed x: one `$in` per kind present in the list. */
function membership(v: AggExpr, values: readonly Scalar[], now: number): AggExpr {
  const byKind = new Map<Kind, AggExpr[]>();
  for (const scalar of values) {
    const kind = kindOf(scalar);
    const list = byKind.get(kind) ?? [];
    list.push(scalar.type === 'now' ? new Date(now) : scalar.type === 'date' ? new Date(scalar.value) : scalar.value);
    byKind.set(kind, list);
  }
  const tests = [...byKind].map(([kind, list]) => and(isKind(kind, v), { $in: [v, { $literal: list }] }));
  return tests.length === 0 ? false : tests.length === 1 ? tests[0] : { $or: tests };
}

function regex(v: AggExpr, pattern: string): AggExpr {
  return { $cond: [isString(v), { $regexMatch: { input: v, regex: pattern } }, false] };
}

/** A date bound test `t <op> ms` for integer-millisecond dates; constant when `ms` lies outside every date. */
function dateBound(v: AggExpr, op: '$gte' | '$gt' | '$lte' | '$lt', ms: number): AggExpr {
  const exact = op === '$gte' || op === '$lt' ? Math.ceil(ms) : Math.floor(ms);
  // t >= x and t > x hold for every date when x is below them all; t <= x and t < x for none.
  if (exact < -MAX_DATE_MS) return op === '$gte' || op === '$gt';
  if (exact > MAX_DATE_MS) return op === '$lte' || op === '$lt';
  return { [op]: [v, new Date(exact)] };
}

function occurs(v: AggExpr, expr: Extract<Expr, { kind: 'occurs' }>, now: number): AggExpr {
  const window = expr.window;
  if (window.kind === 'between') {
    const from = window.from.type === 'date' ? window.from.value : now;
    const to = window.to.type === 'date' ? window.to.value : now;
    return and(isDate(v), dateBound(v, '$gte', from), dateBound(v, '$lte', to));
  }
  const edge = now - window.amount * UNIT_MS[window.unit];
  switch (window.op) {
    case '<=':
      return and(isDate(v), dateBound(v, '$gte', edge), dateBound(v, '$lte', now));
    case '<':
      return and(isDate(v), dateBound(v, '$gt', edge), dateBound(v, '$lte', now));
    case '>=':
      return and(isDate(v), dateBound(v, '$lte', edge));
    case '>':
      return and(isDate(v), dateBound(v, '$lt', edge));
  }
}

/** An array value with an element `=` one of `values`. */
function someElement(v: AggExpr, values: readonly Scalar[], now: number): AggExpr {
  if (values.length === 0) return false;
  const tests = values.map((scalar) => ({ $in: [literal(scalar, now), v] }));
  return { $cond: [{ $isArray: v }, tests.length === 1 ? tests[0] : { $or: tests }, false] };
}

export type LeafExpr = Extract<Expr, { path: Path }>;

/** A condition on a path (every kind but relations, inSegment, constants and boolean operators). */
export function leafCondition(expr: LeafExpr, scope: PipelineScope, now: number): AggExpr {
  return withValue(pathValue(expr.path, scope), (v) => {
    switch (expr.kind) {
      case 'compare':
        return compare(v, expr.op, expr.value, now);
      case 'in':
        return expr.negated ? { $not: [membership(v, expr.values, now)] } : membership(v, expr.values, now);
      case 'exists':
        return present(v);
      case 'stringMatch':
        return regex(v, containsPattern(expr.fn, expr.value, expr.caseSensitive));
      case 'matches':
        return regex(v, matchesPattern(expr.pattern));
      case 'like':
        return regex(v, likePattern(expr.pattern));
      case 'occurs':
        return occurs(v, expr, now);
      case 'includes':
        return someElement(v, [expr.value], now);
      case 'intersects':
        return someElement(v, expr.values, now);
    }
  });
}
