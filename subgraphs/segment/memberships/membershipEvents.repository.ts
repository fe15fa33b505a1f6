/**
 * `membershipEvents` of one sandbox: the append-only log of membership changes,
 * one document per change. Each event has a position, increasing in the order
 * events are appended, which subscriptions and streaming activation will read
 * from ("every event after position P").
 *
 * Positions are handed out in ranges from a counter document (`$inc` by the
 * batch's size: one counter write per batch). An event's `_id` is derived from
 * its cause, so writing it again (a retried batch, a rerun of the same run) is a
 * duplicate-key no-op; the positions allocated for such duplicates stay unused,
 * so positions increase but may have gaps.
 */
import { MongoBulkWriteError, type Collection, type Db } from 'mongodb';
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
  value: number;
}

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

const onlyDuplicateKeys = (error: unknown): boolean =>
  error instanceof MongoBulkWriteError &&
  error.writeErrors !== undefined &&
  (Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]).every((e) => e.code === 11000);

export class MembershipEventsRepository {
  private readonly events: Collection<EventDocument>;
  private readonly counters: Collection<PositionCounter>;

  constructor(private readonly db: Db) {
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
   * Appends events in the given order, with increasing positions; events already in the log
   * (same cause, segment, member and status) are left as they are. Returns how many were new.
   */
  async append(events: readonly NewMembershipEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const counter = await this.counters.findOneAndUpdate(
      { _id: COUNTER_ID },
      { $inc: { value: events.length } },
      { upsert: true, returnDocument: 'after' },
    );
    const first = (counter?.value ?? events.length) - events.length + 1;
    const docs: EventDocument[] = events.map((event, index) => ({
      _id: membershipEventId(event),
      position: first + index,
      segmentId: event.segmentId,
      memberId: event.memberId,
      memberType: event.memberType,
      status: event.status,
      occurredAt: event.occurredAt,
      cause: event.cause,
    }));
    try {
      const result = await this.events.insertMany(docs, { ordered: false });
      return result.insertedCount;
    } catch (error) {
      if (!onlyDuplicateKeys(error)) throw error;
      return (error as MongoBulkWriteError).result.insertedCount;
    }
  }

  /** Events after `position` (exclusive), in position order, optionally of one segment. */
  async after(position: number, options: { segmentId?: string; limit: number }): Promise<MembershipEventRecord[]> {
    const filter = options.segmentId === undefined ? { position: { $gt: position } } : { segmentId: options.segmentId, position: { $gt: position } };
    const docs = await this.events.find(filter).sort({ position: 1 }).limit(options.limit).toArray();
    return docs.map(toRecord);
  }

  /** The highest position handed out so far (0 before the first event). */
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
