/**
 * Expression operators where mingo follows JavaScript rather than MongoDB on strings:
 * - ordering (`$lt`, `$lte`, `$gt`, `$gte`, `$cmp`): MongoDB compares strings by UTF-8 bytes,
 *   i.e. by code point; JavaScript's `<` compares UTF-16 units;
 * - `$regexMatch`: MongoDB's PCRE runs in UTF mode, so `.` or `[^a]` match one code point;
 *   a JavaScript RegExp does that only with the `u` flag. Patterns that are not valid in
 *   `u` mode (looser legacy syntax) are compiled without it. Compiled patterns are cached.
 */
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import * as expressionOperators from 'mingo/operators/expression';
import { compareValues } from './compare.js';

type ExprOp = (obj: unknown, expr: unknown, options: Options) => unknown;

const builtins = expressionOperators as unknown as Record<string, ExprOp>;

function ordering(name: '$lt' | '$lte' | '$gt' | '$gte' | '$cmp', decide: (order: number) => unknown): ExprOp {
  const builtin = builtins[name];
  return (obj, expr, options) => {
    if (!Array.isArray(expr) || expr.length !== 2) return builtin(obj, expr, options);
    const [a, b] = evalExpr(obj, expr, options) as [unknown, unknown];
    if (typeof a === 'string' && typeof b === 'string') return decide(compareValues(a, b));
    return builtin(obj, [{ $literal: a }, { $literal: b }], options);
  };
}

const MAX_CACHED_PATTERNS = 1_000;
const patterns = new Map<string, RegExp>();

function compile(source: string, flags: string): RegExp {
  const key = `${flags}/${source}`;
  let re = patterns.get(key);
  if (!re) {
    try {
      re = new RegExp(source, `${flags}u`);
    } catch {
      re = new RegExp(source, flags);
    }
    if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
    patterns.set(key, re);
  }
  return re;
}

const builtinRegexMatch = builtins.$regexMatch;

const $regexMatch: ExprOp = (obj, expr, options) => {
  const spec = evalExpr(obj, expr, options) as { input?: unknown; regex?: unknown; options?: unknown } | null;
  const flags = typeof spec?.options === 'string' ? spec.options : '';
  // Extended mode and RegExp objects carrying their own flags stay with mingo.
  if (!spec || typeof spec.regex !== 'string' || /[^ims]/.test(flags)) return builtinRegexMatch(obj, expr, options);
  if (typeof spec.input !== 'string') return false;
  const re = compile(spec.regex, flags);
  re.lastIndex = 0;
  return re.test(spec.input);
};

export const stringExpressionOps: Record<string, ExprOp> = {
  $lt: ordering('$lt', (order) => order < 0),
  $lte: ordering('$lte', (order) => order <= 0),
  $gt: ordering('$gt', (order) => order > 0),
  $gte: ordering('$gte', (order) => order >= 0),
  $cmp: ordering('$cmp', (order) => order),
  $regexMatch,
};
