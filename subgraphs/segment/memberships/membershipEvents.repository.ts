/**
 * `membershipEvents` of one sandbox: the append-only log of membership changes,
 * one document per change. Each event has a position, increasing in the order
 * events are appended, which subscriptions and streaming activation read from
 * ("every event after position P").
 *
 * Positions have no gaps and become visible in order. Writes to one sandbox's
 * log take turns through a lock on its counter document (any process): the
 * holder reads the last position and inserts its new events after it, each write
 * one ordered insert, and publishes its last position on the counter when it
 * checks in or lets go. So below any stored position nothing is missing, and a
 * reader that follows the log's top (`lastPosition`, or a change stream of the
 * log, which sees inserts in commit order) never sees a later position before an
 * earlier one. The appends of one process queue in memory and share a write
 * (eventLogAppends.ts), so they do not compete for the lock. An
 * event's `_id` is derived from its cause, so writing it again (a retried batch,
 * a rerun of the same run) finds it stored and skips it without using a position.
 * A holder that dies mid-write has its lock expire; the next holder counts what
 * the dead one inserted as appended, so nothing is reused.
 */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import { MEMBERSHIP_EVENTS_COLLECTION } from '../memberships.layout.js';
import { appendToLog } from './eventLogAppends.js';
import { EventLogLock } from './eventLogLock.repository.js';
import { membershipEventId, type MembershipEventDocument, type MembershipEventRecord, type NewMembershipEvent } from './membershipEvent.js';

export { membershipEventId } from './membershipEvent.js';
export type { MembershipEventCause, MembershipEventRecord, MembershipEventStatus, NewMembershipEvent } from './membershipEvent.js';

const ensureIndexes = oncePerKey();
const systemClock = () => new Date();

const toRecord = ({ _id: _ignored, ...rest }: MembershipEventDocument): MembershipEventRecord => rest;

export class MembershipEventsRepository {
  private readonly events: Collection<MembershipEventDocument>;
  private readonly lock: EventLogLock;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date = systemClock,
  ) {
    this.events = db.collection<MembershipEventDocument>(MEMBERSHIP_EVENTS_COLLECTION);
    this.lock = new EventLogLock(db);
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
   * Appends events in the given order, at the next positions (consecutive: no other append's
   * events come between them); events already in the log (same cause, segment, member and
   * status) are left as they are. Returns how many were new.
   */
  async append(events: readonly NewMembershipEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const docs = events.map((event) => ({
      _id: membershipEventId(event),
      segmentId: event.segmentId,
      memberId: event.memberId,
      memberType: event.memberType,
      status: event.status,
      occurredAt: event.occurredAt,
      cause: event.cause,
    }));
    return appendToLog(this.db, docs, this.now);
  }

  /** Events after `position` (exclusive), in position order, optionally of one segment. */
  async after(position: number, options: { segmentId?: string; limit: number }): Promise<MembershipEventRecord[]> {
    const filter = options.segmentId === undefined ? { position: { $gt: position } } : { segmentId: options.segmentId, position: { $gt: position } };
    const docs = await this.events.find(filter).sort({ position: 1 }).limit(options.limit).toArray();
    return docs.map(toRecord);
  }

  /** The last position appended (0 before the first event): every position up to it is stored. */
  lastPosition(): Promise<number> {
    return this.lock.lastPosition();
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
