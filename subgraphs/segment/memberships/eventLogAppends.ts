/**
 * Appends to the membership event logs through one queue per sandbox database in
 * this process.
 *
 * Appends that arrive while a write is under way, or while it waits for another
 * process to free the log, wait in memory and go together in the next write: one
 * lock, one ordered insert, one publish-and-release, however many callers. So the
 * writers of one process (the streaming evaluator's partitions, a batch run) never
 * meet at the lock and never wait on a timer; only another process's write makes
 * them wait (eventLogLock.repository.ts says how).
 */
import { randomUUID } from 'node:crypto';
import type { Db, MongoClient } from 'mongodb';
import { EventLogLock } from './eventLogLock.repository.js';
import { EventLogWriter } from './eventLogWriter.repository.js';
import type { UnnumberedEventDocument } from './membershipEvent.js';

/** Events per write: keeps every lock hold far shorter than the lock's expiry. One append is never split. */
const MAX_EVENTS_PER_WRITE = 5_000;

interface PendingAppend {
  docs: readonly UnnumberedEventDocument[];
  now: () => Date;
  resolve(appended: number): void;
  reject(error: unknown): void;
}

const queuesByClient = new WeakMap<MongoClient, Map<string, AppendQueue>>();

/**
 * Appends `docs` to `db`'s log in the order given, at consecutive positions after every event
 * appended before; answers how many were new. `now` reads the clock that tells a dead holder's
 * lock has run out.
 */
export function appendToLog(db: Db, docs: readonly UnnumberedEventDocument[], now: () => Date): Promise<number> {
  let queues = queuesByClient.get(db.client);
  if (!queues) {
    queues = new Map();
    queuesByClient.set(db.client, queues);
  }
  const forClient = queues;
  const name = db.databaseName;
  let queue = forClient.get(name);
  if (!queue) {
    const created = new AppendQueue(db, () => {
      if (forClient.get(name) === created) forClient.delete(name);
    });
    forClient.set(name, created);
    queue = created;
  }
  return queue.add(docs, now);
}

class AppendQueue {
  private readonly pending: PendingAppend[] = [];
  private draining = false;
  private readonly lock: EventLogLock;
  private readonly writer: EventLogWriter;

  constructor(
    db: Db,
    private readonly onIdle: () => void,
  ) {
    this.lock = new EventLogLock(db);
    this.writer = new EventLogWriter(db);
  }

  add(docs: readonly UnnumberedEventDocument[], now: () => Date): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ docs, now, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) await this.writeNext();
    this.draining = false;
    // Idle queues are dropped, so a process that touches many sandboxes keeps none for long.
    this.onIdle();
  }

  /**
   * Takes the lock and then every append queued by that time (so whatever arrived while it
   * waited goes too), writes them, publishes and frees the log; settles those appends.
   */
  private async writeNext(): Promise<void> {
    const holder = randomUUID();
    let batch: PendingAppend[] = [];
    try {
      // The first append's clock: one process's appends share the system clock, tests inject one.
      const last = await this.lock.acquire(holder, this.pending[0]!.now);
      batch = this.take();
      const appended = await this.writeHeld(holder, batch, last);
      batch.forEach((append, index) => append.resolve(appended[index]!));
    } catch (error) {
      if (batch.length === 0) batch = this.take();
      for (const append of batch) append.reject(error);
    }
  }

  /** Writes while holding the lock; afterwards publishes what is stored and frees the log, even after a failed write. */
  private async writeHeld(holder: string, batch: readonly PendingAppend[], last: number): Promise<number[]> {
    let write;
    try {
      write = await this.writer.write(
        batch.map((append) => append.docs),
        last,
      );
    } catch (error) {
      // What did land is stored in order from `last` on: publishing it keeps positions gap-free.
      // If even that cannot be read, the lock is left to run out and the next holder counts it.
      const stored = await this.lock.lastStoredPosition(last).catch(() => null);
      if (stored !== null) await this.lock.release(holder, stored).catch(() => undefined);
      throw error;
    }
    // Only now do the appends resolve: once one has, readers of the counter see its events.
    await this.lock.release(holder, write.last);
    return write.appended;
  }

  /** The oldest queued appends, whole, up to one write's size (at least one append). */
  private take(): PendingAppend[] {
    let events = 0;
    let count = 0;
    while (count < this.pending.length && (count === 0 || events + this.pending[count]!.docs.length <= MAX_EVENTS_PER_WRITE)) {
      events += this.pending[count]!.docs.length;
      count++;
    }
    return this.pending.splice(0, count);
  }
}
