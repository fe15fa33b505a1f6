/**
 * The live benchmark's writer, on a thread of its own, as the streaming
 * evaluator that writes membership changes runs in a worker process of its own:
 * its round trips to MongoDB then wait for MongoDB, not for the platform's event
 * loop. It writes either the membership event log (through its repository, as
 * the evaluators do) or the floor's plain collection (one driver insert).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MongoClient } from 'mongodb';
import { letGoOfEventLogs } from '../../subgraphs/segment/memberships/eventLogAppends.js';
import { MembershipEventsRepository, type NewMembershipEvent } from '../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { memberIdDueAt, WARM_UP_PREFIX } from './liveSubscribers.js';
import { startTsWorker } from './tsWorker.js';

export interface LoadSettings {
  /** Changes a second. */
  rate: number;
  /** Seconds of the same load before the measured ones; their changes' members start with WARM_UP_PREFIX and are not counted. */
  warmUpSeconds: number;
  durationSeconds: number;
  segments: number;
}

export type WriteTarget =
  /** The membership event log of `database`; change i goes to segmentIds[i % segments]. */
  | { kind: 'log'; mongoUri: string; database: string; segmentIds: string[] }
  /** `{ segment, member, at }` documents inserted into `collection` of `database`. */
  | { kind: 'floor'; mongoUri: string; database: string; collection: string };

export interface Load {
  /** Measured changes (those of the warm-up left out). */
  changes: number;
  /** Per change, from when it came due until its write answered. */
  storedMs: number[];
}

interface Change {
  segment: number;
  member: string;
  warmUp: boolean;
  /** When the change came due (epoch ms, sub-millisecond): latency counts from here. */
  dueAt: number;
}

/** A group of changes comes due this often. */
const GROUP_INTERVAL_MS = 10;
/** Changes held by one write at most, as a streaming partition reads at most this many changes a turn. */
const MAX_WRITE_BATCH = 500;

/** Runs the load on a new thread; answers when every change is written. */
export function writeOnThread(settings: LoadSettings, target: WriteTarget): Promise<Load> {
  const worker = startTsWorker(import.meta.url, { workerData: { settings, target } });
  return new Promise((resolve, reject) => {
    worker.once('message', (load: Load) => resolve(load));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`The writer thread exited with ${code}`)));
  });
}

/**
 * Changes come due `rate` a second for the warm-up and then the measured seconds,
 * a group every 10 ms, round-robin over segments: the measured ones meet the code
 * already optimized and every buffer grown, as in a platform that has been
 * running. One writer stores them the way a sandbox's streaming evaluator does
 * (one partition per sandbox, one batch at a time): each write holds what came
 * due while the previous one ran. Latency counts from when a change came due, so
 * time spent waiting for the writer counts too.
 */
async function steadyLoad(settings: LoadSettings, write: (batch: Change[]) => Promise<void>): Promise<Load> {
  const perGroup = Math.max(1, Math.round((settings.rate * GROUP_INTERVAL_MS) / 1_000));
  const warmUpGroups = Math.round((settings.warmUpSeconds * 1_000) / GROUP_INTERVAL_MS);
  const groups = warmUpGroups + Math.round((settings.durationSeconds * 1_000) / GROUP_INTERVAL_MS);
  const pending: Change[] = [];
  const storedMs: number[] = [];
  let producing = true;
  let wake: (() => void) | undefined;
  const writer = (async () => {
    for (;;) {
      if (pending.length === 0) {
        if (!producing) return;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const batch = pending.splice(0, MAX_WRITE_BATCH);
      await write(batch);
      const storedAt = performance.timeOrigin + performance.now();
      for (const change of batch) if (!change.warmUp) storedMs.push(storedAt - change.dueAt);
    }
  })();
  const start = performance.now();
  let due = 0;
  let measured = 0;
  for (let i = 0; i < groups; i++) {
    const wait = start + i * GROUP_INTERVAL_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const dueAt = performance.timeOrigin + performance.now();
    const warmUp = i < warmUpGroups;
    for (let j = 0; j < perGroup; j++, due++) pending.push({ segment: due % settings.segments, member: `${warmUp ? WARM_UP_PREFIX : 'm'}${due}`, warmUp, dueAt });
    if (!warmUp) measured += perGroup;
    wake?.();
  }
  producing = false;
  wake?.();
  await writer;
  return { changes: measured, storedMs };
}

let sequence = 0;
/** A change as the batch evaluator logs it; the member id carries when it came due. */
export function membershipEvent(segmentId: string, memberId: string): NewMembershipEvent {
  sequence++;
  return { segmentId, memberId, memberType: 'PERSON', status: 'realized', occurredAt: new Date(), cause: { kind: 'batch', runId: `bench-${process.pid}-${Date.now()}-${sequence}` } };
}

async function run(settings: LoadSettings, target: WriteTarget): Promise<Load> {
  const client = new MongoClient(target.mongoUri);
  await client.connect();
  try {
    const db = client.db(target.database);
    if (target.kind === 'log') {
      const events = new MembershipEventsRepository(db);
      return await steadyLoad(settings, async (batch) => {
        await events.append(batch.map(({ segment, member, dueAt }) => membershipEvent(target.segmentIds[segment]!, memberIdDueAt(member, dueAt))));
      });
    }
    const collection = db.collection<{ segment: number; member: string; at: number }>(target.collection);
    return await steadyLoad(settings, async (batch) => {
      await collection.insertMany(batch.map(({ segment, member, dueAt }) => ({ segment, member, at: dueAt })));
    });
  } finally {
    await letGoOfEventLogs(client);
    await client.close();
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { settings, target } = workerData as { settings: LoadSettings; target: WriteTarget };
  void run(settings, target).then((load) => port.postMessage(load));
}
