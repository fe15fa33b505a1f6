/**
 * The lock that makes appends to one sandbox's membership event log take turns
 * across processes: the counter document in `membershipEventPositions`. Its
 * `value` is the last position published (every position up to it is stored);
 * `lockedBy` / `lockedUntil` name the write holding the log and until when, so a
 * holder whose process dies frees the log when its lock runs out.
 */
import type { Collection, Db } from 'mongodb';
import { setTimeout as backOff } from 'node:timers/promises';
import { MEMBERSHIP_EVENT_POSITIONS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../memberships.layout.js';

interface PositionCounter {
  _id: string;
  /** The last position appended: every position up to it is stored. */
  value: number;
  lockedBy?: string | null;
  lockedUntil?: Date | null;
}

/** Longer than any one write takes (a write is bounded in size); only a dead holder's lock ever runs out. */
const LOCK_MS = 30_000;
const COUNTER_ID = 'membershipEvents';
const DUPLICATE_KEY = 11000;
const FIRST_WAIT_MS = 2;
const LONGEST_WAIT_MS = 50;

export class EventLogLock {
  private readonly counters: Collection<PositionCounter>;
  private readonly events: Collection<{ position: number }>;

  constructor(db: Db) {
    this.counters = db.collection<PositionCounter>(MEMBERSHIP_EVENT_POSITIONS_COLLECTION);
    this.events = db.collection<{ position: number }>(MEMBERSHIP_EVENTS_COLLECTION);
  }

  /**
   * Takes the lock for `holder`, reading `now` once per try; answers the last position stored.
   *
   * While another process holds it, this waits and tries again (appends of one process never
   * meet here: they queue in memory and write together). MongoDB cannot make a caller wait for
   * a document to change, and a dead holder changes nothing (only the clock frees its lock), so
   * trying again is the only way to learn the log is free. A holder keeps it for about three
   * round trips: the waits start at a couple of milliseconds and double up to 50, each drawn
   * between half and all of that, so processes that wait together do not retry in step.
   */
  async acquire(holder: string, now: () => Date): Promise<number> {
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LONGEST_WAIT_MS)) {
      const last = await this.tryAcquire(holder, now());
      if (last !== null) return last;
      await backOff(wait / 2 + Math.random() * (wait / 2));
    }
  }

  /** One try: the last position stored, or null while another holder's lock runs. */
  private async tryAcquire(holder: string, now: Date): Promise<number | null> {
    try {
      const before = await this.counters.findOneAndUpdate(
        { _id: COUNTER_ID, $or: [{ lockedBy: null }, { lockedUntil: { $lt: now } }] },
        { $set: { lockedBy: holder, lockedUntil: new Date(now.getTime() + LOCK_MS) }, $setOnInsert: { value: 0 } },
        { upsert: true, returnDocument: 'before' },
      );
      const value = before?.value ?? 0;
      // A holder whose lock ran out died mid-write: what it inserted counts as appended.
      return before?.lockedBy ? this.lastStoredPosition(value) : value;
    } catch (error) {
      // Held: the filter found no free lock, so the upsert collided with the counter's _id.
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return null;
      throw error;
    }
  }

  /** Publishes `last` as the last position appended and frees the log, if `holder` still holds it. */
  async release(holder: string, last: number): Promise<void> {
    await this.counters.updateOne({ _id: COUNTER_ID, lockedBy: holder }, { $set: { value: last, lockedBy: null, lockedUntil: null } });
  }

  /** The highest position stored, at least `floor`. */
  async lastStoredPosition(floor: number): Promise<number> {
    const [top] = await this.events.find({ position: { $gt: floor } }, { projection: { position: 1 } }).sort({ position: -1 }).limit(1).toArray();
    return top?.position ?? floor;
  }

  /** The last position published (0 before the first event): every position up to it is stored. */
  async lastPublished(): Promise<number> {
    const counter = await this.counters.findOne({ _id: COUNTER_ID });
    return counter?.value ?? 0;
  }
}
