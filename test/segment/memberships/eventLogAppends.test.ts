/**
 * Appends to the membership event log: many at once from one process share one write,
 * a process keeps the log while it writes and hands it to another that waits, appends
 * from two processes interleave without gaps, reordering or duplicates, and an
 * append that dies between taking the log and inserting loses nothing a retry does not finish.
 */
import type { ChangeStream, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERSHIP_EVENT_POSITIONS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../../../subgraphs/segment/memberships.layout.js';
import { letGoOfEventLogs } from '../../../subgraphs/segment/memberships/eventLogAppends.js';
import { EventLogLockLostError } from '../../../subgraphs/segment/memberships/eventLogWriter.repository.js';
import { MembershipEventsRepository, type MembershipEventRecord } from '../../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { refusalWatchingClock } from '../../support/refusalWatchingClock.js';
import { AT, breakingOnInsert, countCommands, eventKey, runEvents } from './support.js';

const PREFIX = uniqueName('evapp_');
let clients: MongoClient[];
beforeAll(async () => {
  clients = await Promise.all([connectTestClient({ monitorCommands: true }), connectTestClient()]);
});
afterAll(async () => {
  await dropDatabasesWithPrefix(clients[0]!, PREFIX);
  await Promise.all(clients.map((client) => client.close()));
});

let counter = 0;
const databaseName = () => `${PREFIX}${++counter}`;
const positions = (count: number, from = 1) => Array.from({ length: count }, (_, i) => from + i);
const afterExpiry = new Date(AT.getTime() + 31_000);

async function readLog(log: MembershipEventsRepository): Promise<MembershipEventRecord[]> {
  return log.after(0, { limit: 100_000 });
}

/** Each run's events sit next to each other, in the order appended (m0, m1, ...). */
function expectRunsContiguous(log: MembershipEventRecord[]): void {
  const runs = new Map<string, MembershipEventRecord[]>();
  for (const event of log) {
    const run = event.cause.runId ?? '';
    runs.set(run, [...(runs.get(run) ?? []), event]);
  }
  for (const events of runs.values()) {
    expect(events.map((event) => event.position)).toEqual(positions(events.length, events[0]!.position));
    expect(events.map((event) => event.memberId)).toEqual(events.map((_, i) => `m${i}`));
  }
}

describe('membership event log appends', () => {
  it('give the concurrent appends of one process one write, and keep the log for its next writes', async () => {
    const db = clients[0]!.db(databaseName());
    const [a, b] = [new MembershipEventsRepository(db), new MembershipEventsRepository(db)];
    await a.ensureIndexes();
    const counters = db.collection<{ value: number; lockedBy?: string | null }>(MEMBERSHIP_EVENT_POSITIONS_COLLECTION);
    let commands = countCommands(clients[0]!, db.databaseName);
    const appends = Array.from({ length: 60 }, (_, i) => runEvents(`r${i}`, 1 + (i % 4)));
    const appended = await Promise.all(appends.map((events, i) => (i % 2 === 0 ? a : b).append(events)));

    expect(appended).toEqual(appends.map((events) => events.length));
    // One write, and the log still held (check-ins aside, a holder sends nothing to the counter).
    expect(commands.get('insert membershipEvents')).toBe(1);
    expect(commands.has('update membershipEventPositions')).toBe(false);
    const holder = (await counters.findOne({}))?.lockedBy;
    expect(holder).toEqual(expect.any(String));

    // The next append, while the process holds the log, is one insert under the same lock.
    commands = countCommands(clients[0]!, db.databaseName);
    expect(await a.append(runEvents('next', 2))).toBe(2);
    expect(commands.get('insert membershipEvents')).toBe(1);
    expect(commands.has('update membershipEventPositions')).toBe(false);
    expect((await counters.findOne({}))?.lockedBy).toBe(holder);

    // Readers see every stored event at once; with nothing more to write the process publishes and lets go.
    const total = appended.reduce((sum, n) => sum + n, 0) + 2;
    expect(await b.lastPosition()).toBe(total);
    await expect.poll(() => counters.findOne({})).toMatchObject({ value: total, lockedBy: null });
    const log = await readLog(a);
    expect(log.map((event) => event.position)).toEqual(positions(total));
    expect(log.map(eventKey)).toEqual([...appends.flat(), ...runEvents('next', 2)].map(eventKey));
  });

  it('let go of the log at once when the process stops, publishing what it stored', async () => {
    // A client of its own, as the stopping process's: other tests leave appends of theirs hanging on the shared ones.
    const stopping = await connectTestClient();
    try {
      const db = stopping.db(databaseName());
      const log = new MembershipEventsRepository(db);
      await log.ensureIndexes();
      const counters = db.collection<{ value: number; lockedBy?: string | null }>(MEMBERSHIP_EVENT_POSITIONS_COLLECTION);
      const appending = log.append(runEvents('last', 3));
      await letGoOfEventLogs(stopping);
      // The append under way was written first; then the lock was freed without waiting to be idle.
      expect(await appending).toBe(3);
      expect(await counters.findOne({})).toMatchObject({ value: 3, lockedBy: null });
    } finally {
      await stopping.close();
    }
  });

  it('hand the log to another process that waits for it while this one goes on writing', async () => {
    const name = databaseName();
    const [a, b] = clients.map((client) => new MembershipEventsRepository(client.db(name)));
    await a!.ensureIndexes();
    let waiterDone = false;
    let runs = 0;
    // Writes back to back until the other process has appended: it never lets the log go for being idle.
    const busy = (async () => {
      while (!waiterDone) await a!.append(runEvents(`a${runs++}`, 2));
    })();
    await expect.poll(() => runs).toBeGreaterThan(3);
    expect(await b!.append(runEvents('waiter', 3))).toBe(3);
    waiterDone = true;
    await busy;

    const log = await readLog(a!);
    expect(log.map((event) => event.position)).toEqual(positions(runs * 2 + 3));
    expectRunsContiguous(log);
  });

  it('interleave appends of two processes with no gap, no duplicate and no position seen out of order', async () => {
    const name = databaseName();
    const [a, b] = clients.map((client) => new MembershipEventsRepository(client.db(name)));
    await a!.ensureIndexes();
    const stream: ChangeStream = clients[1]!.db(name).collection(MEMBERSHIP_EVENTS_COLLECTION).watch([{ $match: { operationType: 'insert' } }]);
    const streamed: number[] = [];
    void (async () => {
      for await (const change of stream) if (change.operationType === 'insert') streamed.push(change.fullDocument.position as number);
    })().catch(() => undefined);
    // An insert before the stream has opened may be missed: append fresh markers until one is seen.
    let markers = 0;
    await expect.poll(async () => {
      await a!.append(runEvents(`marker${++markers}`, 1));
      return streamed.length;
    }).toBeGreaterThan(0);
    const start = await a!.lastPosition();

    // A reader that follows the counter, as live subscriptions and activations do.
    let writing = true;
    let seen = start;
    const reader = (async () => {
      while (writing) {
        const head = await b!.lastPosition();
        const events = await b!.after(seen, { limit: 100_000 });
        expect(events.filter((event) => event.position <= head).map((event) => event.position)).toEqual(positions(head - seen, seen + 1));
        seen = head;
      }
    })();
    // Each process appends 40 runs in four waves of 10 at once; each wave also appends three runs the
    // other process appends in its wave (a retry racing the first try).
    const run = (process: number, index: number) => `p${process}r${index}`;
    const appended = await Promise.all(
      [a!, b!].map(async (log, process) => {
        let total = 0;
        for (let wave = 0; wave < 40; wave += 10) {
          const runs = [...positions(10, wave).map((i) => run(process, i)), ...positions(3, wave).map((i) => run(1 - process, i))];
          const counts = await Promise.all(runs.map((name) => log.append(runEvents(name, 3))));
          total += counts.reduce((sum, n) => sum + n, 0);
        }
        return total;
      }),
    );
    writing = false;
    await reader;

    const total = 80 * 3;
    expect(appended[0]! + appended[1]!).toBe(total);
    const log = (await readLog(a!)).filter((event) => event.position > start);
    expect(log.map((event) => event.position)).toEqual(positions(total, start + 1));
    expect(new Set(log.map(eventKey)).size).toBe(total);
    expectRunsContiguous(log);
    expect(await a!.lastPosition()).toBe(start + total);
    // A change stream sees the inserts in commit order: strictly increasing positions, none missing.
    const written = () => streamed.filter((position) => position > start);
    await expect.poll(() => written().length).toBe(total);
    expect(written()).toEqual(positions(total, start + 1));
    await stream.close();
  });

  it('finish, on a retry, an append whose process died after taking the log and before inserting', async () => {
    const name = databaseName();
    const survivor = clients[1]!.db(name);
    await new MembershipEventsRepository(survivor).ensureIndexes();
    const dying = breakingOnInsert(clients[0]!.db(name), 0, 'die');
    void new MembershipEventsRepository(dying.db, () => AT).append(runEvents('r1', 3));
    await dying.reached;

    const clock = refusalWatchingClock(AT);
    const log = new MembershipEventsRepository(survivor, clock.now);
    const refused = clock.refusal();
    const waiting = log.append(runEvents('r2', 2));
    expect(await Promise.race([refused, waiting.then(() => 'appended')])).toBe('refused');
    expect(await log.lastPosition()).toBe(0);

    clock.set(afterExpiry);
    expect(await waiting).toBe(2);
    // The dead process's caller retries its append (a rerun of the run, or of the streaming batch).
    expect(await log.append(runEvents('r1', 3))).toBe(3);
    const events = await readLog(log);
    expect(events.map((event) => [event.position, eventKey(event)])).toEqual([
      [1, 'r2/m0'],
      [2, 'r2/m1'],
      [3, 'r1/m0'],
      [4, 'r1/m1'],
      [5, 'r1/m2'],
    ]);
    expect(await log.lastPosition()).toBe(5);
  });

  it('stop keeping the lock alive for a write that hangs, so another process takes the log when it runs out', async () => {
    const name = databaseName();
    const survivor = clients[1]!.db(name);
    await new MembershipEventsRepository(survivor).ensureIndexes();
    let hungClock = AT;
    const hung = breakingOnInsert(clients[0]!.db(name), 1, 'die');
    void new MembershipEventsRepository(hung.db, () => hungClock).append(runEvents('r1', 3));
    await hung.reached;
    // Its process lives on, checking in every 250 ms; past 30 s into the write it stops extending its lock.
    hungClock = new Date(AT.getTime() + 31_000);
    await new Promise((resolve) => setTimeout(resolve, 600));

    // Had a check-in at 31 s extended it, the lock would hold until 33 s, and this clock never gets there.
    const log = new MembershipEventsRepository(survivor, () => new Date(AT.getTime() + 32_000));
    const waited = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000).unref());
    expect(await Promise.race([waited, log.append(runEvents('r2', 1)).then(() => 'appended')])).toBe('appended');
    expect((await readLog(log)).map((event) => [event.position, eventKey(event)])).toEqual([
      [1, 'r1/m0'],
      [2, 'r2/m0'],
    ]);
  });

  it('count what a process that died mid-insert stored, and a retry stores only the rest', async () => {
    const name = databaseName();
    const survivor = clients[1]!.db(name);
    await new MembershipEventsRepository(survivor).ensureIndexes();
    const dying = breakingOnInsert(clients[0]!.db(name), 2, 'die');
    void new MembershipEventsRepository(dying.db, () => AT).append(runEvents('r1', 4));
    await dying.reached;

    const log = new MembershipEventsRepository(survivor, () => afterExpiry);
    expect(await log.append(runEvents('r1', 4))).toBe(2);
    expect(await log.append(runEvents('r2', 1))).toBe(1);
    const events = await readLog(log);
    expect(events.map((event) => [event.position, eventKey(event)])).toEqual([
      [1, 'r1/m0'],
      [2, 'r1/m1'],
      [3, 'r1/m2'],
      [4, 'r1/m3'],
      [5, 'r2/m0'],
    ]);
    expect(await log.lastPosition()).toBe(5);
  });

  it('publish what a failed insert stored and free the log, so a retry at once finishes the append', async () => {
    const name = databaseName();
    const real = clients[0]!.db(name);
    await new MembershipEventsRepository(real).ensureIndexes();
    const failing = breakingOnInsert(real, 2, new Error('connection reset')).db;
    await expect(new MembershipEventsRepository(failing, () => AT).append(runEvents('r1', 4))).rejects.toThrow('connection reset');
    // Another process, with a clock that never lets a lock run out: only a freed log lets it write.
    const log = new MembershipEventsRepository(clients[1]!.db(name), () => AT);
    expect(await log.lastPosition()).toBe(2);
    expect(await log.append(runEvents('r1', 4))).toBe(2);
    expect((await readLog(log)).map((event) => [event.position, eventKey(event)])).toEqual([
      [1, 'r1/m0'],
      [2, 'r1/m1'],
      [3, 'r1/m2'],
      [4, 'r1/m3'],
    ]);
  });

  it('refuse to write over a position another writer took outside the lock, and continue after it', async () => {
    const db = clients[0]!.db(databaseName());
    const log = new MembershipEventsRepository(db);
    await log.ensureIndexes();
    const [foreign] = runEvents('foreign', 1);
    await db.collection(MEMBERSHIP_EVENTS_COLLECTION).insertOne({ ...foreign!, _id: 'batch:foreign:s1:m0:realized', position: 1 } as never);
    await expect(log.append(runEvents('r1', 2))).rejects.toBeInstanceOf(EventLogLockLostError);
    expect(await log.lastPosition()).toBe(1);
    expect(await log.append(runEvents('r1', 2))).toBe(2);
    expect((await readLog(log)).map((event) => [event.position, eventKey(event)])).toEqual([
      [1, 'foreign/m0'],
      [2, 'r1/m0'],
      [3, 'r1/m1'],
    ]);
  });
});
