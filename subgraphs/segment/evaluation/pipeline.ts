/**
 * CONTRACT (implemented by the pipeline back end): the segment tree as a MongoDB
 * aggregation over the target's collection (`people` for PERSON, `accounts` for
 * ACCOUNT) of one sandbox database, following the segment language's semantics,
 * not MongoDB's. Yields `{ _id }` of every qualifying member, sorted by `_id`.
 *
 * Shape: a `$match` prefilter on the member's own fields when one is safe (prefilter.ts),
 * the joins the expression needs (pipelineRelations.ts: relation counts, memberships, the
 * primary account) and the exact decision as `$match: { $expr }` stages (pipelineLevel.ts,
 * pipelineExpressions.ts), then `{ _id }` sorted. Only documented MongoDB 5.0+ features; the same on devdb and mongod.
 */
import type { Document } from 'mongodb';
import { ACCOUNTS_COLLECTION } from '../../account/account.view.js';
import { PEOPLE_COLLECTION } from '../../profile/profile.view.js';
import type { Expr, TargetEntity } from '../language/index.js';
import { filterStages, newBuild } from './pipelineLevel.js';
import { SCOPES, TOP_SCOPE } from './pipelineScopes.js';
import { prefilter } from './prefilter.js';

export interface PipelineOptions {
  target: TargetEntity;
  /** The evaluation time: `now` and every `occurs ... before now` window are relative to it. */
  now: Date;
}

export interface SegmentPipeline {
  /** The collection the pipeline runs on (the owning subgraph's view module names it). */
  collectionName: string;
  pipeline: Document[];
}

const COLLECTIONS: Readonly<Record<TargetEntity, string>> = { PERSON: PEOPLE_COLLECTION, ACCOUNT: ACCOUNTS_COLLECTION };

export function buildSegmentPipeline(expr: Expr, options: PipelineOptions): SegmentPipeline {
  const now = options.now.getTime();
  const scope = SCOPES[TOP_SCOPE[options.target]];
  const filter = prefilter(expr, scope.fields, now);
  return {
    collectionName: COLLECTIONS[options.target],
    pipeline: [
      ...(filter ? [{ $match: filter }] : []),
      ...filterStages(expr, scope, newBuild(now)),
      { $project: { _id: 1 } },
      { $sort: { _id: 1 } },
    ],
  };
}
