/**
 * `segmentMemberships` of one sandbox: who is in which segment. Read by the API
 * (members of a segment, a profile's or account's memberships, sizes) and written
 * only by batch evaluation, through `applyTransitions`, which writes differences
 * and is safe to repeat within a run.
 */
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db, type Filter, type UpdateFilter } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import {
  MEMBERSHIPS_COLLECTION,
  membershipId,
  type MemberType,
  type MembershipDocument,
  type MembershipStatus,
} from '../memberships.layout.js';

export interface MembershipRecord {
  segmentId: string;
  memberId: string;
  memberType: MemberType;
  status: MembershipStatus;
  lastQualificationTime: Date;
  enteredAt: Date;
  exitedAt: Date | null;
  updatedAt: Date;
  /** When an exited membership is removed; null while the member is in. */
  expiresAt: Date | null;
  /** The evaluation run that last changed it. */
  runId: string;
}

/** What an evaluation's merge join needs of a membership: whose it is, its status, and the run that last changed it. */
export type MembershipState = Pick<MembershipRecord, 'segmentId' | 'memberId' | 'status' | 'runId'>;

const STATE_PROJECTION = { _id: 0, segmentId: 1, memberId: 1, status: 1, runId: 1 } as const;

export interface StatusCounts {
  realized: number;
  existing: number;
  exited: number;
  /** realized + existing: the segment's size. */
  size: number;
}

export interface MembersPageQuery {
  /** Every status when omitted or empty. */
  statuses?: readonly MembershipStatus[];
  limit: number;
  /** A memberId: the page starts after it. */
  after?: string;
}

/** One change decided by an evaluation run. `at` is the run's evaluation time. */
export type MembershipTransition =
  /** A member seen for the first time, or one that had exited and qualifies again. */
  | { kind: 'enter'; from: null | 'exited'; segmentId: string; memberId: string; memberType: MemberType; runId: string; at: Date }
  /** A member realized by an earlier run that still qualifies. */
  | { kind: 'stay'; segmentId: string; memberId: string; runId: string; at: Date }
  /** A current member that no longer qualifies. */
  | { kind: 'exit'; segmentId: string; memberId: string; runId: string; at: Date; expiresAt: Date };

const ensureIndexes = oncePerKey();

function toRecord(doc: MembershipDocument): MembershipRecord {
  return {
    segmentId: doc.segmentId,
    memberId: doc.memberId,
    memberType: doc.memberType,
    status: doc.status,
    lastQualificationTime: doc.lastQualificationTime,
    enteredAt: doc.enteredAt,
    exitedAt: doc.exitedAt ?? null,
    updatedAt: doc.updatedAt,
    expiresAt: doc.expiresAt ?? null,
    runId: doc.runId,
  };
}

/**
 * The time a member last qualified. Evaluation writes only status changes, so a member
 * that stays in keeps the time of its last change; it qualified again at every later
 * evaluation of its segment, whose time the segment's last evaluation holds.
 */
export function lastQualificationTime(membership: MembershipRecord, segmentEvaluatedAt: Date | null): Date {
  if (membership.status === 'exited' || !segmentEvaluatedAt) return membership.lastQualificationTime;
  return segmentEvaluatedAt > membership.lastQualificationTime ? segmentEvaluatedAt : membership.lastQualificationTime;
}

const DUPLICATE_KEY = 11000;
const IDS_PER_STATEMENT = 1_000;

/** One update for many memberships: the condition and change they share, and their ids. */
interface GroupedUpdate {
  filter: Filter<MembershipDocument>;
  update: UpdateFilter<MembershipDocument>;
  ids: string[];
}

/**
 * The transitions as few statements: every new member of the call in one unordered insert, and
 * each other kind (with its run and times) in one update of all its memberships by `_id`. Each
 * statement is conditional on the state its transitions were decided from and skips memberships
 * this run already changed, as one statement per membership would be, but a page of a batch run
 * costs a handful of statements instead of one per membership.
 */
function groupTransitions(transitions: readonly MembershipTransition[]): { inserts: MembershipDocument[]; updates: GroupedUpdate[] } {
  const inserts: MembershipDocument[] = [];
  const updates = new Map<string, GroupedUpdate>();
  const group = (key: string, make: () => Omit<GroupedUpdate, 'ids'>, id: string) => {
    let entry = updates.get(key);
    if (!entry) updates.set(key, (entry = { ...make(), ids: [] }));
    entry.ids.push(id);
  };
  for (const t of transitions) {
    const _id = membershipId(t.segmentId, t.memberId);
    const notThisRun = { $ne: t.runId };
    const at = t.at.getTime();
    switch (t.kind) {
      case 'enter':
        if (t.from === null) {
          inserts.push({ _id, segmentId: t.segmentId, memberId: t.memberId, memberType: t.memberType, status: 'realized', lastQualificationTime: t.at, enteredAt: t.at, exitedAt: null, updatedAt: t.at, runId: t.runId });
          break;
        }
        group(`reenter ${t.runId} ${at}`, () => ({
          filter: { status: 'exited', runId: notThisRun },
          update: { $set: { status: 'realized', lastQualificationTime: t.at, enteredAt: t.at, exitedAt: null, updatedAt: t.at, runId: t.runId }, $unset: { expiresAt: '' } },
        }), _id);
        break;
      case 'stay':
        group(`stay ${t.runId} ${at}`, () => ({
          filter: { status: 'realized', runId: notThisRun },
          update: { $set: { status: 'existing', lastQualificationTime: t.at, updatedAt: t.at, runId: t.runId } },
        }), _id);
        break;
      case 'exit':
        group(`exit ${t.runId} ${at} ${t.expiresAt.getTime()}`, () => ({
          filter: { status: { $in: ['realized', 'existing'] }, runId: notThisRun },
          update: { $set: { status: 'exited', exitedAt: t.at, expiresAt: t.expiresAt, updatedAt: t.at, runId: t.runId } },
        }), _id);
        break;
    }
  }
  return { inserts, updates: [...updates.values()] };
}

export class MembershipsRepository {
  private readonly memberships: Collection<MembershipDocument>;

  constructor(private readonly db: Db) {
    this.memberships = db.collection<MembershipDocument>(MEMBERSHIPS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      Promise.all([
        // Members of a segment by status, paged in memberId order; counts by status.
        this.memberships.createIndex({ segmentId: 1, status: 1, memberId: 1 }, { name: 'segmentId_status_memberId' }),
        // A member's memberships (profile and account fields) and `inSegment` lookups (covered).
        this.memberships.createIndex({ memberId: 1, status: 1, segmentId: 1 }, { name: 'memberId_status_segmentId' }),
        // Exited memberships are removed at their own `expiresAt`, so a retention change needs no index rebuild.
        this.memberships.createIndex({ expiresAt: 1 }, { name: 'expiresAt_ttl', expireAfterSeconds: 0 }),
      ]),
    );
  }

  async find(segmentId: string, memberId: string): Promise<MembershipRecord | null> {
    const doc = await this.memberships.findOne({ _id: membershipId(segmentId, memberId) });
    return doc ? toRecord(doc) : null;
  }

  /** A page of a segment's members with the given statuses, in memberId order (cursor: the last memberId). */
  async pageOfSegment(segmentId: string, query: MembersPageQuery): Promise<MembershipRecord[]> {
    const filter: Filter<MembershipDocument> = { segmentId };
    if (query.statuses && query.statuses.length > 0) filter.status = { $in: [...query.statuses] };
    if (query.after !== undefined) filter.memberId = { $gt: query.after };
    const docs = await this.memberships.find(filter).sort({ memberId: 1 }).limit(query.limit).toArray();
    return docs.map(toRecord);
  }

  /**
   * The memberships of each member, in the order of `memberIds` (one `$in` query), each
   * list in segmentId order. Every status when `statuses` is omitted.
   */
  async listForMembers(memberIds: readonly string[], statuses?: readonly MembershipStatus[]): Promise<MembershipRecord[][]> {
    if (memberIds.length === 0) return [];
    const filter: Filter<MembershipDocument> = { memberId: { $in: [...new Set(memberIds)] } };
    if (statuses && statuses.length > 0) filter.status = { $in: [...statuses] };
    const docs = await this.memberships.find(filter).sort({ memberId: 1, segmentId: 1 }).toArray();
    const byMember = new Map<string, MembershipRecord[]>();
    for (const doc of docs) {
      const list = byMember.get(doc.memberId) ?? [];
      list.push(toRecord(doc));
      byMember.set(doc.memberId, list);
    }
    return memberIds.map((id) => byMember.get(id) ?? []);
  }

  /**
   * Each member's status in each segment it has a membership of (exited ones included), by
   * member and then segment: what an evaluation decides from, read without the rest of the
   * documents (the streaming evaluator reads this for every member it evaluates).
   */
  async statusesOfMembers(memberIds: readonly string[]): Promise<Map<string, Map<string, MembershipStatus>>> {
    const byMember = new Map<string, Map<string, MembershipStatus>>();
    if (memberIds.length === 0) return byMember;
    const docs = await this.memberships
      .find<Pick<MembershipDocument, 'segmentId' | 'memberId' | 'status'>>({ memberId: { $in: [...new Set(memberIds)] } }, { projection: { _id: 0, segmentId: 1, memberId: 1, status: 1 } })
      .toArray();
    for (const doc of docs) {
      let own = byMember.get(doc.memberId);
      if (!own) byMember.set(doc.memberId, (own = new Map()));
      own.set(doc.segmentId, doc.status);
    }
    return byMember;
  }

  /** Counts by status of each segment, in the order of `segmentIds` (one aggregation). */
  async countByStatus(segmentIds: readonly string[]): Promise<StatusCounts[]> {
    if (segmentIds.length === 0) return [];
    const rows = await this.memberships
      .aggregate<{ _id: { segmentId: string; status: MembershipStatus }; n: number }>([
        { $match: { segmentId: { $in: [...new Set(segmentIds)] } } },
        { $group: { _id: { segmentId: '$segmentId', status: '$status' }, n: { $sum: 1 } } },
      ])
      .toArray();
    const counts = new Map<string, StatusCounts>();
    for (const { _id, n } of rows) {
      const entry = counts.get(_id.segmentId) ?? { realized: 0, existing: 0, exited: 0, size: 0 };
      entry[_id.status] += n;
      entry.size = entry.realized + entry.existing;
      counts.set(_id.segmentId, entry);
    }
    return segmentIds.map((id) => counts.get(id) ?? { realized: 0, existing: 0, exited: 0, size: 0 });
  }

  /** Removes every membership of a deleted segment; returns how many. */
  async deleteSegment(segmentId: string): Promise<number> {
    const result = await this.memberships.deleteMany({ segmentId });
    return result.deletedCount;
  }

  /** Every membership of a segment, any status, in memberId order, read as a cursor (for the evaluation's merge join). */
  async *scanSegment(segmentId: string, batchSize = 1_000): AsyncGenerator<MembershipRecord> {
    const cursor = this.memberships
      .find({ _id: { $gte: membershipId(segmentId, ''), $lt: `${segmentId};` } })
      .sort({ _id: 1 })
      .batchSize(batchSize);
    try {
      for await (const doc of cursor) yield toRecord(doc);
    } finally {
      await cursor.close();
    }
  }

  /**
   * The states of the memberships of these segments, of members of one type, whose member id lies
   * in (afterId, toId] (open-ended when null), any status, in memberId order: one range query on the
   * memberId index, reading only the fields the merge join compares. Batch evaluation reads a page
   * of members' memberships with it, including members that no longer exist.
   */
  async inMemberRange(memberType: MemberType, segmentIds: readonly string[], afterId: string | null, toId: string | null): Promise<MembershipState[]> {
    if (segmentIds.length === 0) return [];
    const range: Record<string, string> = {};
    if (afterId !== null) range.$gt = afterId;
    if (toId !== null) range.$lte = toId;
    // Only the member range is asked of the index, so it walks the memberId index for the page
    // alone; filtering by segment here as well could send a planner to every membership of those
    // segments. The member type is checked on the server: an open-ended range of one type's scan
    // (its first or last page) also spans every membership of the other type, which the reader
    // must not receive, since their number grows with the data, not with the page.
    const filter: Filter<MembershipDocument> = afterId === null && toId === null ? { memberType } : { memberId: range, memberType };
    const wanted = new Set(segmentIds);
    const docs = await this.memberships.find(filter, { projection: STATE_PROJECTION }).sort({ memberId: 1 }).toArray();
    return (docs as unknown as MembershipState[]).filter((doc) => wanted.has(doc.segmentId));
  }

  /** Applies transitions in a few conditional statements (`groupTransitions`); returns how many memberships changed. */
  async applyTransitions(transitions: readonly MembershipTransition[]): Promise<number> {
    if (transitions.length === 0) return 0;
    const { inserts, updates } = groupTransitions(transitions);
    let changed = 0;
    if (inserts.length > 0) {
      try {
        changed += (await this.memberships.insertMany(inserts, { ordered: false })).insertedCount;
      } catch (error) {
        // A membership that exists already (written by an earlier attempt of this run) stays as it is.
        if (!(error instanceof MongoBulkWriteError)) throw error;
        const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
        if (errors.some((entry) => entry.code !== DUPLICATE_KEY)) throw error;
        changed += error.result.insertedCount;
      }
    }
    // Every update in one command (a page of a large run holds tens of thousands of transitions), as
    // statements of a bounded number of ids each, so no single statement's `$in` grows with the page.
    const statements: AnyBulkWriteOperation<MembershipDocument>[] = [];
    for (const { filter, update, ids } of updates) {
      for (let from = 0; from < ids.length; from += IDS_PER_STATEMENT) {
        const chunk = ids.slice(from, from + IDS_PER_STATEMENT);
        statements.push({ updateMany: { filter: { _id: { $in: chunk }, ...filter } as Filter<MembershipDocument>, update } });
      }
    }
    if (statements.length > 0) changed += (await this.memberships.bulkWrite(statements, { ordered: false })).modifiedCount;
    return changed;
  }
}
