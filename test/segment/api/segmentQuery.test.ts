/**
 * The preview query on its own, with a hand-written pipeline in place of a compiled
 * segment: one aggregation answers the count, the sample and the members not yet in
 * a segment, on whichever MongoDB the tests run against.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabases } from '../../../lib/mongo/databases.js';
import { SegmentQueryRepository } from '../../../subgraphs/segment/segmentQuery.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';

describe('SegmentQueryRepository.preview', () => {
  let client: MongoClient;
  const prefix = uniqueName('t_sq_');

  beforeAll(async () => {
    client = await connectTestClient();
  });
  afterAll(async () => {
    await dropDatabasesWithPrefix(client, prefix);
    await client.close();
  });

  it('counts, samples in id order and counts those not currently members', async () => {
    const db = createDatabases(client, `${prefix}_`).sandbox('preview');
    await db.collection('people').insertMany(['p5', 'p1', 'p4', 'p2', 'p3', 'p6'].map((id) => ({ _id: id as never, score: Number(id.slice(1)) })));
    await db.collection('segmentMemberships').insertMany([
      { _id: 'seg_a:p2' as never, segmentId: 'seg_a', memberId: 'p2', status: 'existing' },
      { _id: 'seg_a:p3' as never, segmentId: 'seg_a', memberId: 'p3', status: 'exited' },
      { _id: 'seg_a:p4' as never, segmentId: 'seg_a', memberId: 'p4', status: 'realized' },
      { _id: 'seg_b:p5' as never, segmentId: 'seg_b', memberId: 'p5', status: 'existing' },
    ]);
    const query = { collectionName: 'people', pipeline: [{ $match: { score: { $gte: 2 } } }, { $project: { _id: 1 } }, { $sort: { _id: 1 } }] };
    const repository = new SegmentQueryRepository(db);

    expect(await repository.preview(query, { sampleSize: 3 })).toEqual({ size: 5, sampleIds: ['p2', 'p3', 'p4'], entering: null });
    // p3 exited and p5, p6 are members of other segments only: three would enter.
    expect(await repository.preview(query, { sampleSize: 20, comparedWith: 'seg_a' })).toEqual({
      size: 5,
      sampleIds: ['p2', 'p3', 'p4', 'p5', 'p6'],
      entering: 3,
    });
    const nobody = { ...query, pipeline: [{ $match: { score: { $gt: 100 } } }, { $project: { _id: 1 } }] };
    expect(await repository.preview(nobody, { sampleSize: 20, comparedWith: 'seg_a' })).toEqual({ size: 0, sampleIds: [], entering: 0 });
  });
});
