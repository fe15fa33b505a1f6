/**
 * One level of a segment pipeline: the member (a person or an account) or a relation's elements
 * inside a `$lookup`. A condition on a level becomes the stages that join what it needs (each
 * relation condition reduced to a count, `inSegment` to a membership lookup, the primary account)
 * and one boolean aggregation expression over the level's documents.
 */
import type { Document } from 'mongodb';
import type { Expr } from '../language/index.js';
import { leafCondition, readsPrimaryAccount, type AggExpr } from './pipelineExpressions.js';
import { inSegmentCondition, primaryAccountLookup, relationCondition } from './pipelineRelations.js';
import type { PipelineScope } from './pipelineScopes.js';

/** State shared by every level of one pipeline. */
export interface PipelineBuild {
  /** The evaluation time, epoch milliseconds. */
  now: number;
  /** A helper field name no other level of this pipeline uses (helper names start with `__`). */
  field(prefix: string): string;
}

export function newBuild(now: number): PipelineBuild {
  let next = 0;
  return { now, field: (prefix) => `__${prefix}${next++}` };
}

export interface Level {
  scope: PipelineScope;
  /** Joins this level's condition needs, in order. */
  stages: Document[];
  /** The helper field of each segment id `inSegment` already looked up here. */
  segments: Map<string, string>;
  /** Whether a path reads the primary account. */
  primaryAccount: boolean;
}

export interface CompiledLevel {
  stages: Document[];
  test: AggExpr;
}

function translate(expr: Expr, level: Level, build: PipelineBuild): AggExpr {
  switch (expr.kind) {
    case 'and':
      return { $and: expr.operands.map((operand) => translate(operand, level, build)) };
    case 'or':
      return { $or: expr.operands.map((operand) => translate(operand, level, build)) };
    case 'not':
      return { $not: [translate(expr.operand, level, build)] };
    case 'constant':
      return expr.value;
    case 'quantifier':
    case 'count':
      return relationCondition(expr, level, build, compileLevel);
    case 'inSegment':
      return inSegmentCondition(expr.segmentId, level, build);
    default:
      if (readsPrimaryAccount(expr.path, level.scope)) level.primaryAccount = true;
      return leafCondition(expr, level.scope, build.now);
  }
}

/** The stages and the final test of `expr` on documents of `scope`. */
export function compileLevel(expr: Expr, scope: PipelineScope, build: PipelineBuild): CompiledLevel {
  const level: Level = { scope, stages: [], segments: new Map(), primaryAccount: false };
  const test = translate(expr, level, build);
  return { stages: level.primaryAccount ? [primaryAccountLookup(), ...level.stages] : level.stages, test };
}
