/**
 * `membershipEvents` of one sandbox: the append-only log of membership changes,
 * one document per change. Each event has a position, increasing in the order
 * events are appended, which subscriptions and streaming activation will read
 * from ("every event after position P").
 *
 * Positions have no gaps and become visible in order. Appends to one sandbox's
 * log take turns through a lock on its counter document (any process): the
 * holder reads the last position, inserts its new events after it, then moves
 * the counter past them and lets go. So every position up to the counter is
 * stored, and a reader that follows the counter (or a change stream of the log,
 * which sees inserts in commit order) never sees a later position before an
 * earlier one. An event's `_id` is derived from its cause, so writing it again
 * (a retried batch, a rerun of the same run) finds it stored and skips it without
 * using a position. A holder that dies mid-append has its lock expire; the next
 * holder counts what the dead one inserted as appended, so nothing is reused.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import {
  MEMBERSHIP_EVENT_POSITIONS_COLLECTION,
  MEMBERSHIP_EVENTS_COLLECTION,
  type MemberType,
} from '../memberships.layout.js';

/**
 * Why a membership changed: a batch run; a data change the streaming evaluator saw (`collection`,
 * the operation and the changed document's id); or a time window that opened or closed (`wakeUp`,
 * at `dueAt`). Streaming causes carry the evaluator's batch, which keys their events, and no run.
 */
export type MembershipEventCause =
  | { kind: 'batch'; runId: string }
  | { kind: 'change'; batchId: string; collection: string; operation: string; documentId: string | null; runId?: undefined }
  | { kind: 'wakeUp'; batchId: string; dueAt: Date; runId?: undefined };

export type MembershipEventStatus = 'realized' | 'exited';

export interface NewMembershipEvent {
  segmentId: string;
  memberId: string;
  memberType: MemberType;
  status: MembershipEventStatus;
  occurredAt: Date;
  cause: MembershipEventCause;
}

export interface MembershipEventRecord extends NewMembershipEvent {
  position: number;
}

interface EventDocument extends MembershipEventRecord {
  _id: string;
}

interface PositionCounter {
  _id: string;
  /** The last position appended: every position up to it is stored. */
  value: number;
  /** The append holding the log, and until when (it expires if its process dies). */
  lockedBy?: string | null;
  lockedUntil?: Date | null;
}

/** Longer than any one append takes; only a dead holder's lock ever runs out. */
const LOCK_MS = 30_000;
const DUPLICATE_KEY = 11000;

const COUNTER_ID = 'membershipEvents';
const ensureIndexes = oncePerKey();

/** The idempotency key of an event: one per (cause, segment, member, status). */
export function membershipEventId(event: NewMembershipEvent): string {
  switch (event.cause.kind) {
    case 'batch':
      return `batch:${event.cause.runId}:${event.segmentId}:${event.memberId}:${event.status}`;
    case 'change':
    case 'wakeUp':
      return `stream:${event.cause.batchId}:${event.segmentId}:${event.memberId}:${event.status}`;
  }
}

const toRecord = ({ _id: _ignored, ...rest }: EventDocument): MembershipEventRecord => rest;


export class MembershipEventsRepository {
  private readonly events: Collection<EventDocument>;
  private readonly counters: Collection<PositionCounter>;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.events = db.collection<EventDocument>(MEMBERSHIP_EVENTS_COLLECTION);
    this.counters = db.collection<PositionCounter>(MEMBERSHIP_EVENT_POSITIONS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      Promise.all([
        this.events.createIndex({ position: 1 }, { name: 'position', unique: true }),
        this.events.createIndex({ segmentId: 1, position: 1 }, { name: 'segmentId_position' }),
        this.events.createIndex({ memberId: 1, segmentId: 1, occurredAt: 1 }, { name: 'memberId_segmentId_occurredAt' }),
      ]),
    );
  }

  /**
   * Appends events in the given order, at the next positions; events already in the log
   * (same cause, segment, member and status) are left as they are. Returns how many were new.
   */
  async append(events: readonly NewMembershipEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const holder = randomUUID();
    const last = await this.lock(holder);
    let appended = 0;
    try {
      const ids = events.map(membershipEventId);
      const stored = new Set((await this.events.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
      const docs: EventDocument[] = [];
      events.forEach((event, index) => {
        const id = ids[index]!;
        if (stored.has(id)) return;
        stored.add(id);
        docs.push({ _id: id, position: last + docs.length + 1, segmentId: event.segmentId, memberId: event.memberId, memberType: event.memberType, status: event.status, occurredAt: event.occurredAt, cause: event.cause });
      });
      if (docs.length > 0) await this.events.insertMany(docs, { ordered: true });
      appended = docs.length;
      return appended;
    } finally {
      // After a failed insert, what did land (in order) is counted, so positions stay gap-free.
      const reached = appended > 0 ? last + appended : await this.lastStoredPosition(last);
      await this.counters.updateOne({ _id: COUNTER_ID, lockedBy: holder }, { $set: { value: reached, lockedBy: null, lockedUntil: null } });
    }
  }

  /** Takes the log's lock for `holder`, waiting for another append to finish; answers the last position. */
  private async lock(holder: string): Promise<number> {
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      const now = this.now();
      try {
        const before = await this.counters.findOneAndUpdate(
          { _id: COUNTER_ID, $or: [{ lockedBy: null }, { lockedUntil: { $lt: now } }] },
          { $set: { lockedBy: holder, lockedUntil: new Date(now.getTime() + LOCK_MS) }, $setOnInsert: { value: 0 } },
          { upsert: true, returnDocument: 'before' },
        );
        const value = before?.value ?? 0;
        // A holder whose lock ran out died mid-append: what it inserted counts as appended.
        return before?.lockedBy ? this.lastStoredPosition(value) : value;
      } catch (error) {
        // Held by another append: the upsert found no free lock and collided with the counter's _id.
        if ((error as { code?: unknown }).code !== DUPLICATE_KEY) throw error;
      }
      await sleep(wait);
    }
  }

  /** The highest position stored, at least `floor`. */
  private async lastStoredPosition(floor: number): Promise<number> {
    const [top] = await this.events.find({ position: { $gt: floor } }, { projection: { position: 1 } }).sort({ position: -1 }).limit(1).toArray();
    return top?.position ?? floor;
  }

  /** Events after `position` (exclusive), in position order, optionally of one segment. */
  async after(position: number, options: { segmentId?: string; limit: number }): Promise<MembershipEventRecord[]> {
    const filter = options.segmentId === undefined ? { position: { $gt: position } } : { segmentId: options.segmentId, position: { $gt: position } };
    const docs = await this.events.find(filter).sort({ position: 1 }).limit(options.limit).toArray();
    return docs.map(toRecord);
  }

  /** The last position appended (0 before the first event): every position up to it is stored. */
  async lastPosition(): Promise<number> {
    const counter = await this.counters.findOne({ _id: COUNTER_ID });
    return counter?.value ?? 0;
  }

  /** One member's events in one segment, oldest first (at most `limit`). */
  async history(segmentId: string, memberId: string, limit = 1_000): Promise<MembershipEventRecord[]> {
    const docs = await this.events
      .find({ memberId, segmentId })
      .sort({ occurredAt: 1, position: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toRecord);
  }

  /** Whether the member was in the segment at `at`: its latest event at or before `at` is an entry. */
  async wasMember(segmentId: string, memberId: string, at: Date): Promise<boolean> {
    const latest = await this.events
      .find({ memberId, segmentId, occurredAt: { $lte: at } })
      .sort({ occurredAt: -1, position: -1 })
      .limit(1)
      .next();
    return latest?.status === 'realized';
  }
}
