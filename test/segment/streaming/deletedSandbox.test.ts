/**
 * A sandbox deleted while its streaming evaluation runs: the partition stops and hands its lease
 * back, so no later turn writes into (and so recreates) the dropped database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { TenancyRepository } from '../../../lib/tenancy/tenancy.repository.js';
import { STREAMING_LEASES_COLLECTION } from '../../../subgraphs/segment/streaming/layout.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { addSegment, caughtUp, members, putPerson, streamingSandbox } from './support.js';

const PREFIX = uniqueName('strd_');
let client: MongoClient;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

describe('a deleted sandbox', () => {
  it('stops its streaming evaluation and releases the lease', async () => {
    const box = await streamingSandbox(client, PREFIX, new Date('2099-03-01T12:00:00.000Z'));
    await addSegment(box.db, 'hot', 'leadScore >= 50');
    await putPerson(box.db, 'p1', { leadScore: 80 });
    const service = await box.start({ owner: 'w' });
    try {
      await caughtUp(box);
      await expect.poll(() => members(box.db, 'hot'), { timeout: 20_000 }).toEqual(['p1']);
      const lease = () => box.databases.platform().collection(STREAMING_LEASES_COLLECTION).findOne({ _id: box.sandbox as never });
      expect(await lease()).toMatchObject({ owner: 'w' });

      await new TenancyRepository(box.databases.platform()).markSandboxDeleted(box.sandbox, new Date());
      await expect.poll(() => box.databases.isSandboxDeleted(box.sandbox), { timeout: 10_000 }).toBe(true);
      await expect.poll(async () => (await lease())?.owner, { timeout: 10_000 }).toBeNull();
    } finally {
      await service.stop();
    }
  });
});
