/**
 * One write to a sandbox's membership event log, made while holding its lock: the
 * events of several appends, numbered on from the last stored position and inserted
 * in one ordered bulk insert, so they commit in position order.
 *
 * Events already in the log (a retried batch, a rerun after a crash) are found by the
 * insert itself rather than by a look-up before it: an ordered insert stops at the
 * first duplicate `_id` with everything before it stored, and only then are the rest
 * looked up and the new ones numbered on from there. A write of new events costs one
 * round trip, and no position is ever spent on an event already stored.
 */
import { MongoBulkWriteError, type Collection, type Db } from 'mongodb';
import { MEMBERSHIP_EVENTS_COLLECTION } from '../memberships.layout.js';
import type { MembershipEventDocument, UnnumberedEventDocument } from './membershipEvent.js';

const DUPLICATE_KEY = 11000;

/** A position in the log was taken by a writer that does not hold the lock: this write's turn is over. */
export class EventLogLockLostError extends Error {
  constructor(position: number) {
    super(`membership event log: position ${position} was written by another writer while this one held the lock`);
    this.name = 'EventLogLockLostError';
  }
}

export interface NumberedWrite {
  /** How many of each append's events were new, in the order the appends were given. */
  appended: number[];
  /** The last position stored. */
  last: number;
}

interface Candidate {
  doc: UnnumberedEventDocument;
  append: number;
}

export class EventLogWriter {
  private readonly events: Collection<MembershipEventDocument>;

  constructor(db: Db) {
    this.events = db.collection<MembershipEventDocument>(MEMBERSHIP_EVENTS_COLLECTION);
  }

  /**
   * Stores the appends' events after position `last`, each append's new events in the order
   * given and the appends one after another; an event met earlier in the write or already
   * stored is skipped. The caller holds the log's lock.
   */
  async write(appends: ReadonlyArray<readonly UnnumberedEventDocument[]>, last: number): Promise<NumberedWrite> {
    const appended = appends.map(() => 0);
    const seen = new Set<string>();
    let rest: Candidate[] = [];
    appends.forEach((docs, append) => {
      for (const doc of docs) {
        if (seen.has(doc._id)) continue;
        seen.add(doc._id);
        rest.push({ doc, append });
      }
    });
    let position = last;
    while (rest.length > 0) {
      const stored = await this.insertUntilDuplicate(rest, position);
      for (const { append } of rest.slice(0, stored)) appended[append]!++;
      position += stored;
      if (stored === rest.length) break;
      const left = rest.slice(stored);
      const inLog = await this.storedIds(left.map(({ doc }) => doc._id));
      // The insert stopped on a duplicate key: if not the event's _id, then its position.
      if (!inLog.has(left[0]!.doc._id)) throw new EventLogLockLostError(position + 1);
      rest = left.filter(({ doc }) => !inLog.has(doc._id));
    }
    return { appended, last: position };
  }

  /** Inserts the candidates at the positions after `last`, in order; answers how many were stored before a duplicate key stopped it. */
  private async insertUntilDuplicate(candidates: readonly Candidate[], last: number): Promise<number> {
    const docs = candidates.map(({ doc }, index): MembershipEventDocument => ({ ...doc, position: last + index + 1 }));
    try {
      await this.events.insertMany(docs, { ordered: true });
      return docs.length;
    } catch (error) {
      // An ordered insert reports at most one write error: the one it stopped at.
      const [first] = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
      if (first?.code === DUPLICATE_KEY) return first.index;
      throw error;
    }
  }

  private async storedIds(ids: readonly string[]): Promise<Set<string>> {
    const docs = await this.events.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray();
    return new Set(docs.map((doc) => doc._id));
  }
}
