/**
 * A chunk that arrives while or after its upload is completed never lands: it is refused with
 * CONFLICT, and the import job reads exactly the file completeUpload checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { DomainError } from '../../lib/errors.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import { ImportsRepository, type PutChunkOutcome } from '../../subgraphs/profile/imports/imports.repository.js';
import { ImportsService } from '../../subgraphs/profile/imports/imports.service.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

const PREFIX = uniqueName('uploadrace_');
let client: MongoClient;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

/** A repository whose next chunk write waits, after the service checked the status, until released. */
class GatedRepository extends ImportsRepository {
  private held: { arrive: () => void; gate: Promise<void> } | undefined;
  private open: () => void = () => {};
  /** Resolves when the held write has reached the repository. */
  arrived: Promise<void> = Promise.resolve();

  holdNextWrite(): void {
    let arrive!: () => void;
    this.arrived = new Promise((resolve) => (arrive = resolve));
    this.held = { arrive, gate: new Promise((resolve) => (this.open = resolve)) };
  }

  release(): void {
    this.open();
  }

  override async putChunk(importId: string, index: number, content: string, bytes: number, writeId: string): Promise<PutChunkOutcome> {
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.arrive();
      await held.gate;
    }
    return super.putChunk(importId, index, content, bytes, writeId);
  }
}

const HEADER = 'activityDate,activityTypeId,leadId\n';

async function setup(sandbox: string) {
  const repository = new GatedRepository(createDatabases(client, PREFIX).sandbox(sandbox));
  const scheduled: string[] = [];
  const service = new ImportsService(repository, {
    principal: { sandbox, role: 'editor' },
    now: () => new Date(),
    scheduler: { schedule: async ({ importId }) => void scheduled.push(importId) },
  });
  const { id } = await service.start({ source: 'marketo', instance: '111-AAA-111', entity: 'activities' });
  const file = async () => {
    let text = '';
    for await (const chunk of repository.readChunks(id)) text += chunk;
    return text;
  };
  return { repository, service, id, scheduled, file };
}

const conflict = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected CONFLICT'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('CONFLICT');
    },
  );

describe('uploadChunk racing completeUpload', () => {
  it('refuses a replacement chunk that passed its check before the upload was completed, keeping the checked content', async () => {
    const { repository, service, id, scheduled, file } = await setup('race1');
    await service.uploadChunk(id, 0, `${HEADER}2026-01-01,1,1\n`);
    repository.holdNextWrite();
    const late = service.uploadChunk(id, 0, `${HEADER}2026-01-01,1,999\n`);
    await repository.arrived;
    expect(await service.completeUpload(id, 1)).toMatchObject({ status: 'QUEUED', chunkCount: 1 });
    repository.release();
    await conflict(late);
    expect(await file()).toBe(`${HEADER}2026-01-01,1,1\n`);
    expect(scheduled).toEqual([id]);
  });

  it('refuses a new chunk that lands after completion, leaving no trace of it', async () => {
    const { repository, service, id, file } = await setup('race2');
    await service.uploadChunk(id, 0, `${HEADER}2026-01-01,1,1\n`);
    repository.holdNextWrite();
    const late = service.uploadChunk(id, 1, '2026-01-01,1,2\n');
    await repository.arrived;
    await service.completeUpload(id, 1);
    repository.release();
    await conflict(late);
    expect(await repository.chunkIndexes(id)).toEqual([0]);
    expect(await createDatabases(client, PREFIX).sandbox('race2').collection('importChunks').countDocuments({ importId: id })).toBe(1);
    expect(await file()).toBe(`${HEADER}2026-01-01,1,1\n`);
  });

  it('refuses chunks once completed, and reopens an upload whose completion found chunks missing', async () => {
    const { service, id, file } = await setup('race3');
    await service.uploadChunk(id, 0, HEADER);
    await expect(service.completeUpload(id, 2)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // Still uploading: the chunk may be replaced and the missing one sent.
    await service.uploadChunk(id, 0, `${HEADER}2026-01-01,1,1\n`);
    await service.uploadChunk(id, 1, '2026-01-01,1,2\n');
    await service.completeUpload(id, 2);
    await conflict(service.uploadChunk(id, 1, 'late\n'));
    await conflict(service.uploadChunk(id, 2, 'late\n'));
    expect(await file()).toBe(`${HEADER}2026-01-01,1,1\n2026-01-01,1,2\n`);
  });
});
