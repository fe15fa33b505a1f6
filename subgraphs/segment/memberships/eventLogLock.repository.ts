/**
 * The lock that makes appends to one sandbox's membership event log take turns
 * across processes: the counter document in `membershipEventPositions`. Its
 * `value` is a position up to which every event is stored (published when a
 * holder checks in or lets go); `lockedBy` / `lockedUntil` name the process
 * holding the log and until when, so a holder whose process dies frees the log
 * when its lock runs out; `wanted` says another process is waiting for it.
 *
 * A holder keeps the log while it goes on writing (eventLogAppends.ts), so its
 * writes cost one insert each: it checks in every few hundred milliseconds to
 * keep its lock from running out and to learn whether another process waits.
 */
import type { Collection, Db } from 'mongodb';
import { setTimeout as backOff } from 'node:timers/promises';
import { MEMBERSHIP_EVENT_POSITIONS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../memberships.layout.js';

interface PositionCounter {
  _id: string;
  /** Every position up to it is stored. */
  value: number;
  lockedBy?: string | null;
  lockedUntil?: Date | null;
  /** Set by a process that found the log held; the holder lets go at its next check-in. */
  wanted?: boolean;
}

/**
 * How long a lock holds without a check-in. Holders check in far more often
 * (CHECK_IN_MS in eventLogAppends.ts), so only a dead (or frozen) holder's lock
 * runs out, and the log waits this long for it at most.
 */
export const LOCK_MS = 2_000;
const COUNTER_ID = 'membershipEvents';
const DUPLICATE_KEY = 11000;
const FIRST_WAIT_MS = 2;
/** The longest wait between two tries: a holder asked to let go waits this long before it takes the log again. */
export const LONGEST_WAIT_MS = 50;

/** The log taken: the last position stored, and the clock's time when it was taken. */
export interface Taken {
  last: number;
  at: Date;
}

export type CheckIn = 'held' | 'wanted' | 'lost';

export class EventLogLock {
  private readonly counters: Collection<PositionCounter>;
  private readonly events: Collection<{ position: number }>;

  constructor(db: Db) {
    this.counters = db.collection<PositionCounter>(MEMBERSHIP_EVENT_POSITIONS_COLLECTION);
    this.events = db.collection<{ position: number }>(MEMBERSHIP_EVENTS_COLLECTION);
  }

  /**
   * Takes the lock for `holder`, reading `now` once per try.
   *
   * While another process holds it, this says it waits (the holder lets go at its next
   * check-in) and tries again. MongoDB cannot make a caller wait for a document to change,
   * and a dead holder changes nothing (only the clock frees its lock), so trying again is the
   * only way to learn the log is free. The waits start at a couple of milliseconds and
   * double up to 50, each drawn between half and all of that, so processes that wait
   * together do not retry in step.
   */
  async acquire(holder: string, now: () => Date): Promise<Taken> {
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LONGEST_WAIT_MS)) {
      const at = now();
      const last = await this.tryAcquire(holder, at);
      if (last !== null) return { last, at };
      await this.counters.updateOne({ _id: COUNTER_ID, lockedBy: { $ne: null } }, { $set: { wanted: true } });
      await backOff(wait / 2 + Math.random() * (wait / 2));
    }
  }

  /** One try: the last position stored, or null while another holder's lock runs. */
  private async tryAcquire(holder: string, now: Date): Promise<number | null> {
    try {
      const before = await this.counters.findOneAndUpdate(
        { _id: COUNTER_ID, $or: [{ lockedBy: null }, { lockedUntil: { $lt: now } }] },
        { $set: { lockedBy: holder, lockedUntil: new Date(now.getTime() + LOCK_MS), wanted: false }, $setOnInsert: { value: 0 } },
        { upsert: true, returnDocument: 'before' },
      );
      const value = before?.value ?? 0;
      // A holder whose lock ran out died (or froze) holding it: what it inserted counts as appended.
      return before?.lockedBy ? this.lastStoredPosition(value) : value;
    } catch (error) {
      // Held: the filter found no free lock, so the upsert collided with the counter's _id.
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return null;
      throw error;
    }
  }

  /**
   * Extends `holder`'s lock from `now` and publishes `last` (every position up to it is
   * stored); answers whether it still holds the log, and whether another process waits for it.
   */
  async checkIn(holder: string, last: number, now: Date): Promise<CheckIn> {
    const counter = await this.counters.findOneAndUpdate(
      { _id: COUNTER_ID, lockedBy: holder },
      { $set: { lockedUntil: new Date(now.getTime() + LOCK_MS) }, $max: { value: last } },
      { returnDocument: 'after', projection: { wanted: 1 } },
    );
    if (!counter) return 'lost';
    return counter.wanted ? 'wanted' : 'held';
  }

  /** Publishes `last` as a position up to which every event is stored and frees the log, if `holder` still holds it. */
  async release(holder: string, last: number): Promise<void> {
    await this.counters.updateOne({ _id: COUNTER_ID, lockedBy: holder }, { $set: { lockedBy: null, lockedUntil: null }, $max: { value: last } });
  }

  /** The highest position stored, at least `floor`. */
  async lastStoredPosition(floor: number): Promise<number> {
    const [top] = await this.events.find({ position: { $gt: floor } }, { projection: { position: 1 } }).sort({ position: -1 }).limit(1).toArray();
    return top?.position ?? floor;
  }

  /**
   * The last position stored (0 before the first event): every position up to it is stored.
   * A holder publishes only when it checks in or lets go, so the log's top counts too: its
   * writes are ordered inserts that take turns, so below a stored position nothing is missing.
   * The counter still counts when retention has emptied the log.
   */
  async lastPosition(): Promise<number> {
    const [counter, top] = await Promise.all([this.counters.findOne({ _id: COUNTER_ID }, { projection: { value: 1 } }), this.lastStoredPosition(0)]);
    return Math.max(counter?.value ?? 0, top);
  }
}
