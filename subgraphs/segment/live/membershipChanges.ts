/**
 * One subscriber's stream of a segment's membership events: a replay of the log
 * after its cursor, then live events, with no gap and no duplicate at the seam.
 *
 * The seam: the subscriber joins the shared live log first (buffering what it
 * releases), then reads the stored log up to the live log's watermark (every
 * position at or below it has been released, so it is committed and the read
 * sees it), then drains the buffer, skipping positions already sent. Events
 * above the watermark are never read from the store: they arrive, in order,
 * through the buffer.
 *
 * Memory: the buffer holds at most `queueLimit` events. When the reader (the
 * gateway) falls further behind, the buffer is dropped and the subscriber goes
 * back to reading the stored log from its last position, which loses nothing;
 * the gateway in turn closes a client that reads too slowly (SLOW_CONSUMER).
 */
import type { ChangeIterator } from '../../../lib/subgraph/changeStream.js';
import { pullIterator } from '../../../lib/subgraph/pullIterator.js';
import type { MembershipEventRecord } from '../memberships/membershipEvents.repository.js';
import type { LogListener, LogSubscription } from './liveMembershipEvents.repository.js';

export interface MembershipChangesDeps {
  log: { join(listener: LogListener): Promise<LogSubscription> };
  events: { after(position: number, options: { segmentId?: string; limit: number }): Promise<MembershipEventRecord[]> };
  /** Live events buffered per subscriber before it falls back to the stored log. @default 1000 */
  queueLimit?: number;
  /** Events read from the stored log per query. @default 200 */
  pageSize?: number;
}

/** Positions remembered to recognise a late event already sent from the stored log. */
const RECENT_POSITIONS = 1_024;

interface Queued {
  event: MembershipEventRecord;
  late: boolean;
}

/**
 * Events of `segmentId` after `after` (a log position), or from now on when it is
 * undefined. Resolves once the subscriber has joined the live log.
 */
export async function openMembershipChanges(
  deps: MembershipChangesDeps,
  segmentId: string,
  after: number | undefined,
): Promise<ChangeIterator<MembershipEventRecord>> {
  const queueLimit = deps.queueLimit ?? 1_000;
  const pageSize = deps.pageSize ?? 200;
  let queue: Queued[] = [];
  let replay: MembershipEventRecord[] = [];
  let catchingUp = after !== undefined;
  /** Bumped whenever the buffer is dropped: a catch-up must end after the latest drop. */
  let drops = 0;
  const recent = new Set<number>();
  let subscription: LogSubscription | undefined;
  let lastSent = 0;

  const sent = (event: MembershipEventRecord): MembershipEventRecord => {
    lastSent = Math.max(lastSent, event.position);
    recent.add(event.position);
    if (recent.size > RECENT_POSITIONS) recent.delete(recent.values().next().value as number);
    return event;
  };

  /** One page of the stored log, up to the live watermark; ends the catch-up once it reaches it. */
  const readStoredPage = async (live: LogSubscription) => {
    const dropsBefore = drops;
    const watermark = live.watermark();
    const page = await deps.events.after(lastSent, { segmentId, limit: pageSize });
    replay = page.filter((event) => event.position <= watermark && !recent.has(event.position));
    const reachedWatermark = page.length < pageSize || page.some((event) => event.position > watermark);
    if (reachedWatermark && drops === dropsBefore) catchingUp = false;
  };

  /** The next event to send: stored ones while catching up, then live ones not sent yet. */
  const take = async (): Promise<MembershipEventRecord | undefined> => {
    for (;;) {
      const stored = replay.shift();
      if (stored) return sent(stored);
      if (catchingUp) {
        await readStoredPage(subscription!);
        continue;
      }
      const item = queue.shift();
      if (!item) return undefined;
      const { event, late } = item;
      // In order: anything at or below the last position sent was sent from the stored log.
      // Late: released out of order, so only an exact match counts as sent.
      const duplicate = late ? recent.has(event.position) : event.position <= lastSent;
      if (!duplicate) return sent(event);
    }
  };

  const pull = pullIterator<MembershipEventRecord>({
    take,
    release() {
      queue = [];
      replay = [];
      subscription?.leave();
    },
  });

  subscription = await deps.log.join({
    next(event, late) {
      if (pull.isClosed() || event.segmentId !== segmentId) return;
      if (queue.length >= queueLimit) {
        queue = [];
        drops++;
        catchingUp = true;
      } else {
        queue.push({ event, late });
      }
      pull.wake();
    },
    error: (error) => pull.fail(error),
  });
  lastSent = after ?? subscription.watermark();
  return pull.iterator;
}
