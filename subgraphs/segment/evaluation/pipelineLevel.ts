/**
 * One level of a segment pipeline: the member (a person or an account) or a relation's elements
 * inside a `$lookup`. A condition on a level becomes the stages that keep the documents satisfying
 * it: joins for what it needs (each relation condition reduced to a count, `inSegment` to a
 * membership lookup, the primary account) and `$match: { $expr }` decisions. The conjuncts of a
 * top-level `and` that need no join are decided first, then each joined conjunct right after its
 * joins, so documents a cheap conjunct rules out are never joined.
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
  /** Whether the primary account is joined already. */
  primaryAccount: boolean;
  /** How many times a condition used joined data (to tell conjuncts that need none). */
  joinedUses: number;
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
      level.joinedUses++;
      return relationCondition(expr, level, build, filterStages);
    case 'inSegment':
      level.joinedUses++;
      return inSegmentCondition(expr.segmentId, level, build);
    default:
      if (readsPrimaryAccount(expr.path, level.scope)) {
        level.joinedUses++;
        if (!level.primaryAccount) level.stages.push(primaryAccountLookup());
        level.primaryAccount = true;
      }
      return leafCondition(expr, level.scope, build.now);
  }
}

/** Stages keeping exactly the documents of `scope` for which `expr` holds. */
export function filterStages(expr: Expr, scope: PipelineScope, build: PipelineBuild): Document[] {
  const level: Level = { scope, stages: [], segments: new Map(), primaryAccount: false, joinedUses: 0 };
  const local: AggExpr[] = [];
  const joined: Document[] = [];
  for (const conjunct of expr.kind === 'and' ? expr.operands : [expr]) {
    const uses = level.joinedUses;
    const test = translate(conjunct, level, build);
    if (level.joinedUses === uses) local.push(test);
    else joined.push(...level.stages.splice(0), { $match: { $expr: test } });
  }
  const first = local.length === 0 ? [] : [{ $match: { $expr: local.length === 1 ? local[0] : { $and: local } } }];
  return [...first, ...joined];
}
