/**
 * Batches in flight together: the checkpoint only ever covers a contiguous
 * prefix of finished batches, whatever order they finish in, so a crash or a
 * failed batch leaves exactly the rows to send again; batches that share a key
 * are not sent together. The subgraphs are replaced by a scripted client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { createDatabases } from '../../lib/mongo/databases.js';
import { silentLogger } from '../../lib/logger.js';
import type { IngestionClient, IngestResult } from '../../subgraphs/profile/imports/ingestionClient.js';
import { runImport } from '../../subgraphs/profile/imports/runImport.js';
import type { EventInput } from '../../subgraphs/profile/imports/mappings/records.js';
import { ImportsRepository } from '../../subgraphs/profile/imports/imports.repository.js';
import { ImportsService } from '../../subgraphs/profile/imports/imports.service.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';
import { MARKETO_ACTIVITY_COLUMNS, csvText, marketoActivity, type Row } from '../../lib/fixtures/exportFiles.js';

const PREFIX = uniqueName('pipeline_');
let client: MongoClient;
let imports: ImportsRepository;

beforeAll(async () => {
  client = await connectTestClient();
  imports = new ImportsRepository(createDatabases(client, PREFIX).sandbox('default'));
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

async function uploadActivities(rows: number, row: (n: number) => Row = (n) => marketoActivity(n, 1000 + n)): Promise<string> {
  const service = new ImportsService(imports, { principal: { sandbox: 'default', role: 'editor' }, now: () => new Date(), scheduler: { schedule: async () => {} } });
  const { id } = await service.start({ source: 'marketo', instance: '111-AAA-111', entity: 'activities' });
  await service.uploadChunk(id, 0, csvText(MARKETO_ACTIVITY_COLUMNS, Array.from({ length: rows }, (_, n) => row(n))));
  await service.completeUpload(id, 1);
  return id;
}

interface Call {
  batch: number;
  inputs: readonly EventInput[];
  /** The batches the test had finished when this one was sent: what the import could know of. */
  sentAfter: readonly number[];
  finish: () => void;
  fail: (error: Error) => void;
}

/** A client whose calls finish only when the test says so; `waitForCalls` resolves as calls arrive. */
function scriptedClient() {
  const calls: Call[] = [];
  const finished: number[] = [];
  const waiting = new Set<() => void>();
  const client: IngestionClient = {
    send: (_kind, inputs) =>
      new Promise<IngestResult[]>((resolve, reject) => {
        const batch = calls.length + 1;
        calls.push({
          batch,
          inputs: inputs as readonly EventInput[],
          sentAfter: [...finished],
          finish: () => {
            finished.push(batch);
            resolve(inputs.map((_, index) => ({ index, status: 'CREATED', error: null })));
          },
          fail: reject,
        });
        for (const wake of waiting) wake();
      }),
  };
  const waitForCalls = async (count: number) => {
    while (calls.length < count) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiting.delete(wake);
          resolve();
        };
        waiting.add(wake);
      });
    }
  };
  return { client, calls, waitForCalls };
}

describe('an import with batches in flight together', () => {
  it('moves the checkpoint only over batches whose predecessors have all finished', async () => {
    const id = await uploadActivities(12);
    const { client: scripted, calls, waitForCalls } = scriptedClient();
    const checkpoints: number[] = [];
    const running = runImport(id, {
      imports,
      client: scripted,
      logger: silentLogger,
      now: () => new Date(),
      batchRows: 4,
      batchesInFlight: 3,
      onProgress: async (progress) => void checkpoints.push(progress.checkpointLine),
    });

    await waitForCalls(3);
    expect(calls.map((call) => call.inputs.length)).toEqual([4, 4, 4]);
    // The third and second batches finish first: nothing may be checkpointed until the first does,
    // so the checkpoints come in line order (a checkpoint over batch 3 first would show as 13 first).
    calls[2]!.finish();
    calls[1]!.finish();
    calls[0]!.finish();

    expect(await running).toMatchObject({ status: 'SUCCEEDED', rowsImported: 12, rowsRejected: 0, rowsTotal: 12 });
    expect(checkpoints).toEqual([5, 9, 13]);
  });

  it('resumes after a crash from the last batch whose predecessors all finished, sending later finished batches again', async () => {
    const id = await uploadActivities(12);
    const { client: scripted, calls, waitForCalls } = scriptedClient();
    const deps = { imports, logger: silentLogger, now: () => new Date(), batchRows: 4, batchesInFlight: 3 };
    const running = runImport(id, { ...deps, client: scripted });

    await waitForCalls(3);
    calls[0]!.finish();
    calls[2]!.finish();
    // The worker dies during the second batch, after the third was written.
    calls[1]!.fail(new Error('worker killed'));

    await expect(running).rejects.toThrow('worker killed');
    expect(await imports.findById(id)).toMatchObject({ status: 'RUNNING', checkpointLine: 5, rowsImported: 4, rowsRejected: 0 });
    expect(calls).toHaveLength(3);

    // The job run again: the second and third batches, not the first.
    const resumed = scriptedClient();
    const again = runImport(id, { ...deps, client: resumed.client });
    await resumed.waitForCalls(2);
    expect(resumed.calls.map((call) => call.inputs[0]!.sourceKey)).toEqual([`900004@111-AAA-111.Marketo`, `900008@111-AAA-111.Marketo`]);
    for (const call of resumed.calls) call.finish();
    expect(await again).toMatchObject({ status: 'SUCCEEDED', rowsImported: 12, rowsRejected: 0 });
  });

  it('does not send a batch while a batch in flight touches the same key', async () => {
    // Rows 8-11 repeat the activities of rows 0-3 (same source keys): they are written after them, as a sequential import would.
    const id = await uploadActivities(12, (n) => marketoActivity(n >= 8 ? n - 8 : n, 1000 + n));
    const { client: scripted, calls, waitForCalls } = scriptedClient();
    const held: number[] = [];
    let heldSignal!: () => void;
    const firstHold = new Promise<void>((resolve) => (heldSignal = resolve));
    const running = runImport(id, {
      imports,
      client: scripted,
      logger: silentLogger,
      now: () => new Date(),
      batchRows: 4,
      batchesInFlight: 3,
      onBatchHeld: (lastLine) => {
        held.push(lastLine);
        heldSignal();
      },
    });

    await waitForCalls(2);
    calls[1]!.finish();
    // Room for a third batch in flight, yet the import holds it (lines 10-13) rather than sending it:
    // whichever comes first, the hold or a third call, shows which it decided.
    await Promise.race([firstHold, waitForCalls(3)]);
    expect(calls).toHaveLength(2);
    expect(held).toEqual([13]);
    calls[0]!.finish();
    await waitForCalls(3);
    calls[2]!.finish();
    expect(await running).toMatchObject({ status: 'SUCCEEDED', rowsImported: 12 });
    // The third batch shares keys with the first: it was sent only once the first had finished.
    expect(calls.map((call) => call.sentAfter)).toEqual([[], [], [2, 1]]);
  });
});
