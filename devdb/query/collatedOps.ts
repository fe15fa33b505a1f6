/**
 * The comparison operators of queries and expressions under a collation. mingo compares strings by
 * code point only, so a collated command runs with a mingo context whose comparison operators order
 * strings with the collation; operands without strings keep mingo's own operators.
 */
import { Context, evalExpr } from 'mingo/core';
import * as expressionOperators from 'mingo/operators/expression';
import * as queryOperators from 'mingo/operators/query';
import type { Options } from 'mingo/types';
import { holdsString, type Collation } from './collation.js';
import { compareValues, typeRank, valuesAtPath } from './compare.js';
import { DEVDB_CONTEXT } from './mingoContext.js';
import { isPlainObject } from './values.js';

type Predicate = (doc: unknown) => boolean;
type QueryOp = (selector: string, value: unknown, options: Options) => Predicate;
type ExprOp = (obj: unknown, expr: unknown, options: Options) => unknown;

const builtinQuery = queryOperators as unknown as Record<string, QueryOp>;
const builtinExpr = expressionOperators as unknown as Record<string, ExprOp>;

/** The values a query path reaches, and the elements of those that are arrays (MongoDB's implicit array match). */
function candidates(doc: unknown, selector: string): unknown[] {
  const out: unknown[] = [];
  for (const v of valuesAtPath(doc, selector)) {
    out.push(v);
    if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

function queryOps(c: Collation): Record<string, QueryOp> {
  const cmp = (a: unknown, b: unknown): number => compareValues(a, b, c.compare);
  const equal = (a: unknown, b: unknown): boolean => typeRank(a) === typeRank(b) && cmp(a, b) === 0;
  const matchesValue = (vals: unknown[], b: unknown): boolean => {
    if (b instanceof RegExp) return vals.some((v) => typeof v === 'string' && b.test(v));
    if (b === null) return vals.some((v) => v === null || v === undefined);
    return vals.some((v) => v !== undefined && equal(v, b));
  };
  const eq: QueryOp = (selector, value, options) => {
    if (!holdsString(value)) return builtinQuery.$eq(selector, value, options);
    return (doc) => matchesValue(candidates(doc, selector), value);
  };
  const inList: QueryOp = (selector, value, options) => {
    if (!Array.isArray(value) || !holdsString(value)) return builtinQuery.$in(selector, value, options);
    return (doc) => {
      const vals = candidates(doc, selector);
      return value.some((b) => matchesValue(vals, b));
    };
  };
  const range = (name: string, test: (c: number) => boolean): QueryOp => (selector, value, options) => {
    if (typeof value !== 'string') return builtinQuery[name](selector, value, options);
    return (doc) => candidates(doc, selector).some((v) => typeof v === 'string' && test(c.compare(v, value)));
  };
  const negate = (op: QueryOp): QueryOp => (selector, value, options) => {
    const p = op(selector, value, options);
    return (doc) => !p(doc);
  };
  const all: QueryOp = (selector, value, options) => {
    const plain = Array.isArray(value) && value.every((v) => !(isPlainObject(v) && '$elemMatch' in v));
    if (!plain || !holdsString(value)) return builtinQuery.$all(selector, value, options);
    return (doc) => {
      const vals = candidates(doc, selector);
      return (value as unknown[]).length > 0 && (value as unknown[]).every((b) => matchesValue(vals, b));
    };
  };
  return {
    $eq: eq,
    $ne: negate(eq),
    $in: inList,
    $nin: negate(inList),
    $all: all,
    $gt: range('$gt', (x) => x > 0),
    $gte: range('$gte', (x) => x >= 0),
    $lt: range('$lt', (x) => x < 0),
    $lte: range('$lte', (x) => x <= 0),
  };
}

function expressionOps(c: Collation): Record<string, ExprOp> {
  const compareArgs = (name: string, decide: (x: number) => unknown): ExprOp => (obj, expr, options) => {
    const args = evalExpr(obj, expr, options);
    if (!Array.isArray(args) || args.length !== 2 || !holdsString(args)) return builtinExpr[name](obj, expr, options);
    return decide(compareValues(args[0], args[1], c.compare));
  };
  return {
    $eq: compareArgs('$eq', (x) => x === 0),
    $ne: compareArgs('$ne', (x) => x !== 0),
    $gt: compareArgs('$gt', (x) => x > 0),
    $gte: compareArgs('$gte', (x) => x >= 0),
    $lt: compareArgs('$lt', (x) => x < 0),
    $lte: compareArgs('$lte', (x) => x <= 0),
    $cmp: compareArgs('$cmp', (x) => Math.sign(x)),
    $in: (obj, expr, options) => {
      const args = evalExpr(obj, expr, options);
      if (!Array.isArray(args) || args.length !== 2 || !Array.isArray(args[1]) || !holdsString(args)) return builtinExpr.$in(obj, expr, options);
      return (args[1] as unknown[]).some((v) => typeRank(v) === typeRank(args[0]) && compareValues(v, args[0], c.compare) === 0);
    },
  };
}

const contexts = new Map<string, Context>();

/** devdb's mingo context with the comparison operators of one collation in front. */
export function collatedContext(c: Collation): Context {
  let ctx = contexts.get(c.id);
  if (!ctx) {
    ctx = Context.from(Context.init({ query: queryOps(c) as never, expression: expressionOps(c) as never }), DEVDB_CONTEXT);
    contexts.set(c.id, ctx);
  }
  return ctx;
}
