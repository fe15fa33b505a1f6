/**
 * Live audiences: a segment's membership changes as they happen, resumable
 * from a cursor, and its size for dashboards. Any role may subscribe.
 *
 * `after` is checked before anything is streamed: a cursor this sandbox's log
 * never handed out is BAD_USER_INPUT; one older than the retained log is
 * CURSOR_EXPIRED, naming the oldest position still held and a cursor that
 * resumes from it (what the client missed before it is gone).
 */
import { DomainError, ErrorCode, badInput, notFound } from '../../../lib/errors.js';
import type { ChangeIterator } from '../../../lib/subgraph/changeStream.js';
import type { ServiceDeps } from '../../../lib/subgraph/context.js';
import type { MembershipEventRecord } from '../memberships/membershipEvents.repository.js';
import type { SegmentRecord } from '../segments.repository.js';
import { openAudienceSizes, type AudienceSize } from './audienceSizes.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { LogListener, LogSubscription } from './liveMembershipEvents.repository.js';
import { openMembershipChanges } from './membershipChanges.js';

type EntityRef = { __typename: 'Profile' | 'Account'; id: string };

/** What `segmentMembershipChanged` sends: the logged event, its cursor and its member as a federation reference. */
export interface LiveMembershipEvent extends MembershipEventRecord {
  cursor: string;
  /** The segment as it was when the subscription started. */
  segment: SegmentRecord;
  profile: EntityRef | null;
  account: EntityRef | null;
}

export interface LiveServiceDeps {
  findSegment(id: string): Promise<SegmentRecord | null>;
  events: {
    after(position: number, options: { segmentId?: string; limit: number }): Promise<MembershipEventRecord[]>;
    lastPosition(): Promise<number>;
  };
  log: { join(listener: LogListener): Promise<LogSubscription> };
  countSize(segmentId: string): Promise<number>;
}

export class LiveService {
  constructor(
    private readonly deps: LiveServiceDeps,
    private readonly base: ServiceDeps,
  ) {}

  async membershipChanges(segmentId: string, after?: string | null): Promise<ChangeIterator<LiveMembershipEvent>> {
    const position = after === undefined || after === null ? undefined : decodeCursor(after);
    const segment = await this.segment(segmentId);
    if (position !== undefined) await this.refuseExpired(position);
    const events = await openMembershipChanges({ log: this.deps.log, events: this.deps.events }, segmentId, position);
    return mapIterator(events, (event) => ({
      ...event,
      cursor: encodeCursor(event.position),
      segment,
      profile: event.memberType === 'PERSON' ? { __typename: 'Profile', id: event.memberId } : null,
      account: event.memberType === 'ACCOUNT' ? { __typename: 'Account', id: event.memberId } : null,
    }));
  }

  async audienceSizes(segmentId: string): Promise<ChangeIterator<AudienceSize>> {
    await this.segment(segmentId);
    return openAudienceSizes({ log: this.deps.log, countSize: this.deps.countSize, now: this.base.now }, segmentId);
  }

  private async segment(id: string): Promise<SegmentRecord> {
    const segment = await this.deps.findSegment(id);
    if (!segment) throw notFound('Segment', id);
    return segment;
  }

  private async refuseExpired(position: number): Promise<void> {
    // The last position first: every event up to it is stored by then, so the oldest read after it misses
    // none of them. Read together, an append landing between the two would look like an emptied log.
    const last = await this.deps.events.lastPosition();
    const [oldest] = await this.deps.events.after(0, { limit: 1 });
    if (position > last) {
      throw badInput("`after` is ahead of this sandbox's membership log (was the sandbox reset?); subscribe without it", { field: 'after' });
    }
    // The event the cursor names is gone, and so may be any after it: what the client missed cannot be replayed.
    const expired = oldest === undefined ? position < last : position < oldest.position - 1;
    if (!expired) return;
    const oldestPosition = oldest?.position ?? null;
    throw new DomainError(
      ErrorCode.CursorExpired,
      oldestPosition === null
        ? 'The cursor is older than the retained membership log, which holds no events now; subscribe without `after`'
        : `The cursor is older than the retained membership log; the oldest event still held is at position ${oldestPosition}: resume with \`after: "${encodeCursor(oldestPosition - 1)}"\` or subscribe without \`after\``,
      {
        details: { oldestPosition, resumeCursor: oldestPosition === null ? null : encodeCursor(oldestPosition - 1) },
      },
    );
  }
}

function mapIterator<T, U>(source: ChangeIterator<T>, map: (value: T) => U): ChangeIterator<U> {
  return {
    async next() {
      const result = await source.next();
      return result.done ? { value: undefined, done: true } : { value: map(result.value), done: false };
    },
    async return() {
      await source.return();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await source.return();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
