/**
 * READ-ONLY VIEW of the segment subgraph's data for other subgraphs (activations
 * in the destination subgraph): segments' names and targets, current members
 * page by page, and the membership event log read and watched by position.
 *
 * Rule: every collection has one owning module, and code outside the owning subgraph never names
 * another subgraph's collection. This module reads through the segment subgraph's repositories,
 * and reads the stored layout (memberships.layout.ts) directly for the two reads they lack (a page
 * of current members on the primary index, a count of log positions); it never writes.
 */
import type { ChangeStreamDocument, Db, Document } from 'mongodb';
import { changeFeedFor, type ChangeFeedSpec, type FeedSubscription } from '../../lib/subgraph/changeFeed.js';
import { CURRENT_STATUSES, MEMBERSHIP_EVENTS_COLLECTION, MEMBERSHIPS_COLLECTION, membershipId, type MemberType, type MembershipDocument } from './memberships.layout.js';
import { MembershipEventsRepository } from './memberships/membershipEvents.repository.js';
import { SegmentsRepository } from './segments.repository.js';

export type { MemberType };

export interface SegmentSummary {
  id: string;
  name: string;
  targetEntity: MemberType;
}

export interface CurrentMember {
  memberId: string;
  memberType: MemberType;
}

/** One change of the log: who entered or left which segment, at which position. */
export interface MembershipChange {
  position: number;
  segmentId: string;
  memberId: string;
  memberType: MemberType;
  status: 'realized' | 'exited';
  occurredAt: Date;
}

/** Segments by id (one `$in` query); missing ones are left out. */
export async function findSegments(db: Db, ids: readonly string[]): Promise<SegmentSummary[]> {
  const refs = await new SegmentsRepository(db).findRefs(ids);
  return refs.map((ref) => ({ id: ref.id, name: ref.name, targetEntity: ref.targetEntity }));
}

function currentMembersCursor(db: Db, segmentId: string, after: string | undefined) {
  return db
    .collection<MembershipDocument>(MEMBERSHIPS_COLLECTION)
    .find(
      { _id: { [after === undefined ? '$gte' : '$gt']: membershipId(segmentId, after ?? ''), $lt: `${segmentId};` }, status: { $in: [...CURRENT_STATUSES] } },
      { projection: { memberId: 1, memberType: 1 } },
    )
    .sort({ _id: 1 });
}

/**
 * A page of the segment's current members (realized or existing), in memberId order after `after`.
 * Read on the `_id` range of the segment's memberships (`<segmentId>:<memberId>`, memberships.layout.ts),
 * the order the primary index already holds.
 */
export async function currentMembersPage(db: Db, segmentId: string, page: { after?: string; limit: number }): Promise<CurrentMember[]> {
  const docs = await currentMembersCursor(db, segmentId, page.after).limit(page.limit).toArray();
  return docs.map((doc) => ({ memberId: doc.memberId, memberType: doc.memberType }));
}

export interface MemberPages {
  /** The next page (at most `pageSize`); empty once every member has been read. */
  next(): Promise<CurrentMember[]>;
  close(): Promise<void>;
}

/**
 * The segment's current members after `after`, page after page from one cursor (one sorted read,
 * continued with getMore), for a reader that goes through all of them in order (a backfill).
 */
export function currentMemberPages(db: Db, segmentId: string, options: { after?: string; pageSize: number }): MemberPages {
  const cursor = currentMembersCursor(db, segmentId, options.after).batchSize(options.pageSize);
  return {
    async next() {
      const page: CurrentMember[] = [];
      while (page.length < options.pageSize) {
        const doc = await cursor.next();
        if (!doc) break;
        page.push({ memberId: doc.memberId, memberType: doc.memberType });
      }
      return page;
    },
    close: () => cursor.close(),
  };
}

/** The segment's changes after `position` (exclusive), in position order, at most `limit`. */
export async function segmentChangesAfter(db: Db, segmentId: string, position: number, limit: number): Promise<MembershipChange[]> {
  const events = await new MembershipEventsRepository(db).after(position, { segmentId, limit });
  return events.map((event) => ({
    position: event.position,
    segmentId: event.segmentId,
    memberId: event.memberId,
    memberType: event.memberType,
    status: event.status,
    occurredAt: event.occurredAt,
  }));
}

/** The highest position handed out so far in the sandbox (0 before the first event). */
export function lastChangePosition(db: Db): Promise<number> {
  return new MembershipEventsRepository(db).lastPosition();
}

/**
 * How many changes of any segment are stored with a position in (after, through]: equal to
 * `through - after` exactly when every position handed out in that range is committed.
 */
export function countChangesBetween(db: Db, after: number, through: number): Promise<number> {
  return db.collection(MEMBERSHIP_EVENTS_COLLECTION).countDocuments({ position: { $gt: after, $lte: through } });
}

const CHANGE_SIGNALS: ChangeFeedSpec<{ segmentId: string; position: number }> = {
  collection: MEMBERSHIP_EVENTS_COLLECTION,
  operations: ['insert'],
  map: (change: ChangeStreamDocument<Document>) => {
    if (change.operationType !== 'insert') return null;
    const { segmentId, position } = change.fullDocument as { segmentId?: unknown; position?: unknown };
    return typeof segmentId === 'string' && typeof position === 'number' ? { segmentId, position } : null;
  },
};

/**
 * Tells `listener` of every change appended to the sandbox's log from now on (a segment
 * id and a position, as committed; not necessarily in position order). One change
 * stream per process serves every listener (lib/subgraph/changeFeed.ts). Resolves
 * once the stream is open.
 */
export function watchChanges(
  db: Db,
  listener: { next(change: { segmentId: string; position: number }): void; error(error: Error): void },
): Promise<FeedSubscription> {
  return changeFeedFor(db.client).listen(CHANGE_SIGNALS, db.databaseName, listener);
}
