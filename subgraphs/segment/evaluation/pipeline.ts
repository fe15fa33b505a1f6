/**
 * CONTRACT (implemented by the pipeline back end): the segment tree as a MongoDB
 * aggregation over the target's collection (`people` for PERSON, `accounts` for
 * ACCOUNT) of one sandbox database, following the segment language's semantics,
 * not MongoDB's. Yields `{ _id }` of every qualifying member, sorted by `_id`.
 */
import type { Document } from 'mongodb';
import type { Expr, TargetEntity } from '../language/index.js';

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

export declare function buildSegmentPipeline(expr: Expr, options: PipelineOptions): SegmentPipeline;
