import { ObjectId } from 'bson';
import { Aggregator as BaseAggregator } from 'mingo/aggregator';
import { Context, evalExpr } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { Query as BaseQuery } from 'mingo/query';
import type { Iterator } from 'mingo/lazy';
import type { Options } from 'mingo/types';
import { $lookup } from './lookup.js';
import { stringExpressionOps } from './stringOps.js';
import { bsonType, deepClone, isPlainObject, type Doc } from './values.js';

type ExprOp = (obj: unknown, expr: unknown, options: Options) => unknown;

const builtinToString = expressionOperators.$toString as ExprOp;
const builtinType = expressionOperators.$type as ExprOp;

/** BSON-aware overrides: mingo does not know ObjectId/UUID/Binary/Timestamp values. */
const bsonExpressionOps: Record<string, ExprOp> = {
  $toString: (obj, expr, options) => {
    const v = evalExpr(obj, expr, options);
    const t = bsonType(v);
    if (t === 'ObjectId') return (v as ObjectId).toHexString();
    if (t === 'Binary' || t === 'UUID') return String(v);
    return builtinToString(obj, expr, options);
  },
  $toObjectId: (obj, expr, options) => {
    const v = evalExpr(obj, expr, options);
    if (v === null || v === undefined) return null;
    if (bsonType(v) === 'ObjectId') return v;
    if (typeof v === 'string' && ObjectId.isValid(v) && v.length === 24) return new ObjectId(v);
    throw new Error(`Failed to parse objectId '${String(v)}' in $convert with no onError value`);
  },
  $type: (obj, expr, options) => {
    const v = evalExpr(obj, expr, options);
    switch (bsonType(v)) {
      case 'ObjectId': return 'objectId';
      case 'Binary': case 'UUID': return 'binData';
      case 'Timestamp': return 'timestamp';
      case 'Decimal128': return 'decimal';
      case 'Long': return 'long';
      case 'MinKey': return 'minKey';
      case 'MaxKey': return 'maxKey';
      default: break;
    }
    if (v instanceof Date) return 'date';
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'array';
    if (typeof v === 'string') return 'string';
    if (typeof v === 'object') return 'object';
    return builtinType(obj, expr, options);
  },
};

/** Name of devdb's internal stage that copies documents before a stage that would modify them. */
export const COPY_STAGE = '$__devdbCopy';

const devdbPipelineOps = {
  [COPY_STAGE]: (collection: Iterator) => collection.map((doc: unknown) => deepClone(doc)),
  $lookup,
};

/** Stages that mingo implements by modifying the documents (or nested documents) it is given. */
const MUTATING_STAGES = new Set(['$addFields', '$set', '$unset', '$project', '$replaceRoot', '$replaceWith', '$redact', '$setWindowFields', '$fill', '$densify']);

/**
 * Inserts a copy stage before the first modifying stage of a pipeline (and of nested $lookup, $facet and
 * $unionWith pipelines), so stored documents are never changed and unmodified ones are never copied.
 */
export function guardPipeline(pipeline: Doc[]): Doc[] {
  const out: Doc[] = [];
  let copied = false;
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0];
    let s = stage;
    const spec = stage[name];
    if ((name === '$lookup' || name === '$unionWith') && isPlainObject(spec) && Array.isArray(spec.pipeline)) {
      s = { [name]: { ...spec, pipeline: guardPipeline(spec.pipeline as Doc[]) } };
    } else if (name === '$facet' && isPlainObject(spec)) {
      s = { $facet: Object.fromEntries(Object.entries(spec).map(([k, p]) => [k, Array.isArray(p) ? guardPipeline(p as Doc[]) : p])) };
    }
    if (!copied && MUTATING_STAGES.has(name)) {
      out.push({ [COPY_STAGE]: 1 });
      copied = true;
    }
    out.push(s);
  }
  return out;
}

/**
 * One mingo context for all of devdb: every standard operator, with devdb's BSON-aware versions of a few
 * registered first (mingo keeps the first registration of a name).
 */
export const DEVDB_CONTEXT = Context.init({ expression: { ...bsonExpressionOps, ...stringExpressionOps } as never, pipeline: devdbPipelineOps as never })
  .addAccumulatorOps(accumulatorOperators as never)
  .addExpressionOps(expressionOperators as never)
  .addPipelineOps(pipelineOperators as never)
  .addProjectionOps(projectionOperators as never)
  .addQueryOps(queryOperators as never)
  .addWindowOps(windowOperators as never);

export class Aggregator extends BaseAggregator {
  constructor(pipeline: Array<Record<string, unknown>>, options: Partial<Options> = {}) {
    super(pipeline, { idKey: '_id', context: DEVDB_CONTEXT, ...options });
  }
}

/**
 * Query and projection operators alone: what a filter needs unless it evaluates aggregation expressions.
 * mingo copies the operator tables of a query's context for every query it compiles, and devdb compiles
 * one per update statement: with every expression operator in it, that copy cost more than the update.
 */
const QUERY_CONTEXT = Context.init().addQueryOps(queryOperators as never).addProjectionOps(projectionOperators as never);

/** Filter operators that evaluate aggregation expressions (or run code), anywhere in the filter. */
const EXPRESSION_OPERATORS = new Set(['$expr', '$where', '$function', '$accumulator', '$jsonSchema']);

function evaluatesExpressions(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(evaluatesExpressions);
  if (!isPlainObject(value)) return false;
  // A plain loop: this runs for every update statement's filter.
  for (const key in value) if (EXPRESSION_OPERATORS.has(key) || evaluatesExpressions(value[key])) return true;
  return false;
}

export class Query extends BaseQuery {
  constructor(condition: Record<string, unknown>, options: Partial<Options> = {}) {
    super(condition, { idKey: '_id', context: evaluatesExpressions(condition) ? DEVDB_CONTEXT : QUERY_CONTEXT, ...options });
  }
}
