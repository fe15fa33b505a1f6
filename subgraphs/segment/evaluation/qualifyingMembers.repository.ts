/**
 * Runs a segment's pipeline on its target collection and yields the qualifying
 * member ids as the pipeline sorts them, through a cursor (never all at once).
 */
import type { Db } from 'mongodb';
import type { SegmentPipeline } from './pipeline.js';

export class QualifyingMembersRepository {
  constructor(private readonly db: Db) {}

  async *stream(segment: SegmentPipeline, batchSize = 1_000): AsyncGenerator<string> {
    const cursor = this.db
      .collection(segment.collectionName)
      .aggregate<{ _id: unknown }>(segment.pipeline, { allowDiskUse: true, batchSize });
    try {
      for await (const doc of cursor) yield String(doc._id);
    } finally {
      await cursor.close();
    }
  }
}
