/**
 * Appends to the membership event logs through one queue per sandbox database in
 * this process.
 *
 * Appends that arrive while a write is under way wait in memory and go together
 * in the next write, so the writers of one process (the streaming evaluator's
 * partitions, a batch run) never meet at the lock. And the process keeps the log
 * while it goes on writing: once taken, each write is one ordered insert. It
 * checks in every CHECK_IN_MS to keep its lock alive, and lets the log go when it
 * has had nothing to write for IDLE_RELEASE_MS, or at the check-in after another
 * process said it waits (eventLogLock.repository.ts says how).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import type { Db, MongoClient } from 'mongodb';
import { EventLogLock, LOCK_MS, LONGEST_WAIT_MS } from './eventLogLock.repository.js';
import { EventLogWriter } from './eventLogWriter.repository.js';
import type { UnnumberedEventDocument } from './membershipEvent.js';

/** Events per write: keeps every write far shorter than a lock's life. One append is never split. */
const MAX_EVENTS_PER_WRITE = 5_000;
/** A holder checks in this often: a lock runs out only after LOCK_MS without one. */
const CHECK_IN_MS = 250;
/** How long a holder with nothing to write keeps the log, as the next batch of a busy evaluator comes in milliseconds. */
const IDLE_RELEASE_MS = 50;
/** A write unanswered this long is taken for hung: its holder stops checking in, so its lock runs out. */
const HUNG_WRITE_MS = 30_000;

interface PendingAppend {
  docs: readonly UnnumberedEventDocument[];
  now: () => Date;
  resolve(appended: number): void;
  reject(error: unknown): void;
}

/** The log while this queue holds it. */
interface Hold {
  holder: string;
  /** The last position this holder stored (or found stored when it took the log). */
  last: number;
  /** By the appends' clock (ms): the lock is sure to hold until then. */
  safeUntil: number;
  /** Another process waits: let go after the write under way. */
  wanted: boolean;
  /** A check-in found the lock taken by another process (this one froze past its life). */
  lost: boolean;
  /** By the appends' clock (ms): when the write under way started. */
  writingSince: number | null;
  now: () => Date;
  checkIns: NodeJS.Timeout;
  /** The check-in under way. */
  checkingIn: Promise<void> | null;
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

/**
 * Lets go of every log this process holds through `client`, once the appends under way are
 * written: a process that stops should call it before closing the client, or another
 * process waits for its lock to run out. A log whose write does not finish within `waitMs`
 * is left to its lock's expiry, so a hung write does not hold up the process's exit.
 */
export async function letGoOfEventLogs(client: MongoClient, waitMs = 5_000): Promise<void> {
  const queues = [...(queuesByClient.get(client)?.values() ?? [])];
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs).unref()));
  await Promise.race([Promise.all(queues.map((queue) => queue.letGoWhenWritten())), givenUp]);
  clearTimeout(timer);
}

class AppendQueue {
  private readonly pending: PendingAppend[] = [];
  private draining: Promise<void> | null = null;
  private readonly lock: EventLogLock;
  private readonly writer: EventLogWriter;
  private hold: Hold | null = null;
  private idleRelease: NodeJS.Timeout | undefined;
  private releasing: Promise<void> | undefined;

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
      clearTimeout(this.idleRelease);
      this.draining = this.drain();
    });
  }

  async letGoWhenWritten(): Promise<void> {
    while (this.draining) await this.draining;
    await this.letGo();
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) await this.writeNext();
    this.draining = null;
    if (this.hold) {
      // Unreferenced: a process about to exit does not wait; its lock runs out instead.
      this.idleRelease = setTimeout(() => void this.letGo(), IDLE_RELEASE_MS).unref();
      return;
    }
    // Idle queues are dropped, so a process that touches many sandboxes keeps none for long.
    this.onIdle();
  }

  /**
   * Holds the log, then takes every append queued by that time (so whatever arrived while it
   * waited goes too) and writes them; settles those appends.
   */
  private async writeNext(): Promise<void> {
    let batch: PendingAppend[] = [];
    try {
      // The first append's clock: one process's appends share the system clock, tests inject one.
      const hold = await this.holdLog(this.pending[0]!.now);
      batch = this.take();
      const appended = await this.writeHeld(hold, batch);
      batch.forEach((append, index) => append.resolve(appended[index]!));
    } catch (error) {
      if (batch.length === 0) batch = this.take();
      for (const append of batch) append.reject(error);
    }
  }

  /** The log held by this queue: kept from the last write while it surely holds, taken anew otherwise. */
  private async holdLog(now: () => Date): Promise<Hold> {
    await this.releasing;
    let hold = this.hold;
    if (hold?.wanted) {
      await this.letGo();
      // The waiting process retries within LONGEST_WAIT_MS: let it take the log first.
      await pause(LONGEST_WAIT_MS);
      hold = null;
    }
    if (hold && !hold.lost && now().getTime() >= hold.safeUntil) await this.checkIn(hold);
    if (hold && !hold.lost && now().getTime() < hold.safeUntil) return hold;
    // Unsure it still holds (check-ins went unanswered): let go, so its own lock does not stand in its way.
    if (hold) await this.letGo();

    const holder = randomUUID();
    const taken = await this.lock.acquire(holder, now);
    const fresh: Hold = {
      holder,
      last: taken.last,
      safeUntil: safeUntil(taken.at),
      wanted: false,
      lost: false,
      writingSince: null,
      now,
      checkingIn: null,
      checkIns: setInterval(() => void this.checkIn(fresh), CHECK_IN_MS).unref(),
    };
    this.hold = fresh;
    return fresh;
  }

  /** Writes while holding the log; a failed write publishes what it stored and lets the log go. */
  private async writeHeld(hold: Hold, batch: readonly PendingAppend[]): Promise<number[]> {
    try {
      hold.writingSince = hold.now().getTime();
      const write = await this.writer.write(
        batch.map((append) => append.docs),
        hold.last,
      );
      hold.writingSince = null;
      hold.last = write.last;
      return write.appended;
    } catch (error) {
      this.drop(hold);
      // What did land is stored in order from `last` on: publishing it keeps positions gap-free.
      // If even that cannot be read, the lock is left to run out and the next holder counts it.
      const stored = await this.lock.lastStoredPosition(hold.last).catch(() => null);
      if (stored !== null) await this.lock.release(hold.holder, stored).catch(() => undefined);
      throw error;
    }
  }

  /** Keeps the lock alive and publishes what is stored; learns whether another process waits. */
  private checkIn(hold: Hold): Promise<void> {
    if (this.hold !== hold) return Promise.resolve();
    if (hold.writingSince !== null && hold.now().getTime() - hold.writingSince > HUNG_WRITE_MS) return Promise.resolve();
    hold.checkingIn ??= (async () => {
      try {
        const at = hold.now();
        const state = await this.lock.checkIn(hold.holder, hold.last, at);
        if (state === 'lost') hold.lost = true;
        else hold.safeUntil = safeUntil(at);
        if (state === 'wanted') hold.wanted = true;
      } catch {
        // Unanswered: the lock may run out; the next write checks in again first.
      } finally {
        hold.checkingIn = null;
      }
    })();
    return hold.checkingIn;
  }

  /** Publishes what is stored and frees the log; appends that come in meanwhile take it anew. */
  private letGo(): Promise<void> {
    const hold = this.hold;
    if (!hold || this.releasing) return this.releasing ?? Promise.resolve();
    this.drop(hold);
    this.releasing = this.lock
      .release(hold.holder, hold.last)
      .catch(() => undefined)
      .finally(() => {
        this.releasing = undefined;
        if (!this.draining) this.onIdle();
      });
    return this.releasing;
  }

  private drop(hold: Hold): void {
    clearInterval(hold.checkIns);
    clearTimeout(this.idleRelease);
    if (this.hold === hold) this.hold = null;
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

/**
 * Until when a lock taken or extended at `at` surely holds: half its life. The other half
 * covers a write already under way and a clock a little apart from another process's.
 */
function safeUntil(at: Date): number {
  return at.getTime() + LOCK_MS / 2;
}
