/**
 * Several workers on one sandbox: a worker process killed (SIGKILL) in the middle of a stream
 * of changes is taken over once its lease expires, from the stored resume token, without a
 * lost or repeated event; two workers running at once never both write.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import type { RunningWorkerService } from '../../../lib/jobs.js';
import { STREAMING_LEASES_COLLECTION } from '../../../subgraphs/segment/streaming/layout.js';
import { connectTestClient, dropDatabasesWithPrefix, mongoUri, uniqueName } from '../../support/mongo.js';
import { killWorkerProcess, workerProcesses } from '../../support/workerProcess.js';
import { addSegment, caughtUp, eventLog, eventually, logProblems, members, nextTurn, putPerson, streamingSandbox, type StreamingSandbox } from './support.js';

const PREFIX = uniqueName('strw_');
const WORKER = fileURLToPath(new URL('./support/streamingWorker.ts', import.meta.url));
const T0 = new Date('2099-03-01T12:00:00.000Z');
const PEOPLE = 60;
let client: MongoClient;
const workers = workerProcesses();
const services: RunningWorkerService[] = [];

beforeAll(async () => {
  client = await connectTestClient();
});
afterEach(async () => {
  for (const service of services.splice(0)) await service.stop();
});
afterAll(async () => {
  await workers.killAll();
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const startWorkerProcess = (prefix: string, name: string) => workers.start(WORKER, { uri: mongoUri(), prefix, name });

const score = (person: number, round: number) => (person * 37 + round * 53) % 100;
const country = (person: number, round: number) => ((person + round) % 3 === 0 ? 'FR' : 'US');

async function prepare(box: StreamingSandbox): Promise<void> {
  await addSegment(box.db, 'hot', 'leadScore >= 50');
  await addSegment(box.db, 'hotFr', 'inSegment("hot") and country = "FR"');
  for (let i = 0; i < PEOPLE; i++) await putPerson(box.db, `p${String(i).padStart(3, '0')}`, { leadScore: score(i, 0), country: country(i, 0) });
}

/** Rewrites every person `rounds` times, calling `midway` once half of it is written. */
async function churn(db: Db, rounds: number, midway: () => Promise<void>): Promise<void> {
  for (let round = 1; round <= rounds; round++) {
    if (round === Math.ceil(rounds / 2)) await midway();
    for (let i = 0; i < PEOPLE; i++) await putPerson(db, `p${String(i).padStart(3, '0')}`, { leadScore: score(i, round), country: country(i, round) });
  }
}

function expectedMembers(round: number): { hot: string[]; hotFr: string[] } {
  const ids = Array.from({ length: PEOPLE }, (_, i) => i);
  const name = (i: number) => `p${String(i).padStart(3, '0')}`;
  const hot = ids.filter((i) => score(i, round) >= 50);
  return { hot: hot.map(name), hotFr: hot.filter((i) => country(i, round) === 'FR').map(name) };
}

async function settled(box: StreamingSandbox, round: number): Promise<void> {
  const { db } = box;
  const expected = expectedMembers(round);
  await eventually('memberships to follow the last round', async () => ({ hot: await members(db, 'hot'), hotFr: await members(db, 'hotFr') }), (found) => JSON.stringify(found) === JSON.stringify(expected), 60_000);
  await nextTurn(box);
  await eventually('every event written', () => logProblems(db), (problems) => problems.length === 0, 10_000);
}

describe('several workers', () => {
  it('takes over from a worker killed mid-stream without losing or repeating an event', async () => {
    const prefix = `${PREFIX}k_`;
    const box = await streamingSandbox(client, prefix, T0);
    await prepare(box);
    const first = await startWorkerProcess(prefix, 'worker-1');
    await caughtUp(box);
    const rounds = 6;
    await churn(box.db, rounds, async () => {
      await eventually('worker-1 to be writing events', () => eventLog(box.db), (events) => events.length > PEOPLE / 2);
      await killWorkerProcess(first);
    });
    await startWorkerProcess(prefix, 'worker-2');
    await settled(box, rounds);
    const lease = await box.databases.platform().collection(STREAMING_LEASES_COLLECTION).findOne({ _id: box.sandbox as never });
    expect(lease).toMatchObject({ owner: 'worker-2', epoch: 2 });
    expect(await logProblems(box.db)).toEqual([]);
    // A child process's start-up and a lease's expiry take a while on a loaded machine.
  }, 120_000);

  it('never has two workers write the same changes', async () => {
    const box = await streamingSandbox(client, `${PREFIX}t_`, T0);
    await prepare(box);
    const a = await box.start({ owner: 'a', memberChunk: 4, batchSize: 20 });
    const b = await box.start({ owner: 'b', memberChunk: 4, batchSize: 20 });
    services.push(b);
    await caughtUp(box);
    const holder = async () => (await box.databases.platform().collection(STREAMING_LEASES_COLLECTION).findOne({ _id: box.sandbox as never }))?.owner;
    expect(await holder()).toBe('a');
    const rounds = 4;
    // Halfway, the holder stops (handing its lease back); the other takes over.
    await churn(box.db, rounds, () => a.stop());
    await settled(box, rounds);
    expect(await holder()).toBe('b');
    expect(await logProblems(box.db)).toEqual([]);
  });
});
