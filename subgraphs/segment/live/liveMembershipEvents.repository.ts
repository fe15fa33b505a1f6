/**
 * The membership event log of one sandbox as it is written, in position order,
 * shared by every live subscriber of that sandbox in this process.
 *
 * One change stream per process watches `membershipEvents` in every database
 * (lib/subgraph/changeFeed.ts); per sandbox database, one sequencer puts the
 * inserts back into position order (lib/subgraph/positionSequencer.ts explains
 * why commits arrive out of order) and fans them out to the sandbox's
 * subscribers, which filter by segment. The sequencer starts at the log's last
 * position read after the stream opened: every position at or below it is in
 * the log already, and the stream brings every later one.
 */
import type { ChangeStreamDocument, Db, Document } from 'mongodb';
import { changeFeedFor, type ChangeFeedHub, type ChangeFeedSpec, type FeedSubscription } from '../../../lib/subgraph/changeFeed.js';
import { PositionSequencer } from '../../../lib/subgraph/positionSequencer.js';
import { MEMBERSHIP_EVENTS_COLLECTION } from '../memberships.layout.js';
import { MembershipEventsRepository, type MembershipEventRecord } from '../memberships/membershipEvents.repository.js';

/**
 * How long a gap in positions is waited for before it is taken for a hole. The
 * log's appends take turns and commit in position order without gaps
 * (membershipEvents.repository.ts), so a change stream sees no gap; the window
 * only guards against a log written otherwise, where an event committed later
 * still reaches live subscribers, flagged late.
 */
export const REORDER_WINDOW_MS = 1_000;

export interface LogListener {
  /** `late`: the event arrived after later positions were released (see PositionSequencer). */
  next(event: MembershipEventRecord, late: boolean): void;
  error(error: Error): void;
}

export interface LogSubscription {
  /** Every position at or below this has been released to listeners or given up as a hole. */
  watermark(): number;
  leave(): void;
}

const MEMBERSHIP_EVENTS_FEED: ChangeFeedSpec<MembershipEventRecord> = {
  collection: MEMBERSHIP_EVENTS_COLLECTION,
  operations: ['insert'],
  map: (change: ChangeStreamDocument<Document>) => {
    if (change.operationType !== 'insert') return null;
    const doc = change.fullDocument;
    return {
      position: doc.position,
      segmentId: doc.segmentId,
      memberId: doc.memberId,
      memberType: doc.memberType,
      status: doc.status,
      occurredAt: doc.occurredAt,
      cause: doc.cause,
    } as MembershipEventRecord;
  },
};

interface SharedLog {
  readonly listeners: Set<LogListener>;
  readonly sequencer: PositionSequencer<MembershipEventRecord>;
  ready: Promise<void>;
  feed: FeedSubscription | undefined;
}

const logsByHub = new WeakMap<ChangeFeedHub, Map<string, SharedLog>>();

export class LiveMembershipEventsRepository {
  private readonly hub: ChangeFeedHub;

  constructor(
    private readonly db: Db,
    private readonly windowMs = REORDER_WINDOW_MS,
  ) {
    this.hub = changeFeedFor(db.client);
  }

  /** Adds a listener; resolves once every event committed from now on will reach it, in position order. */
  async join(listener: LogListener): Promise<LogSubscription> {
    let logs = logsByHub.get(this.hub);
    if (!logs) {
      logs = new Map();
      logsByHub.set(this.hub, logs);
    }
    const name = this.db.databaseName;
    let log = logs.get(name);
    if (!log) {
      log = this.open(logs, name);
      logs.set(name, log);
    }
    const shared = log;
    shared.listeners.add(listener);
    const leave = () => {
      if (!shared.listeners.delete(listener) || shared.listeners.size > 0) return;
      if (logs.get(name) === shared) logs.delete(name);
      shared.sequencer.dispose();
      shared.feed?.leave();
    };
    try {
      await shared.ready;
    } catch (error) {
      leave();
      throw error;
    }
    return { watermark: () => shared.sequencer.watermark(), leave };
  }

  private open(logs: Map<string, SharedLog>, name: string): SharedLog {
    const listeners = new Set<LogListener>();
    const sequencer = new PositionSequencer<MembershipEventRecord>({
      windowMs: this.windowMs,
      release: (event, late) => {
        for (const listener of [...listeners]) listener.next(event, late);
      },
    });
    const log: SharedLog = { listeners, sequencer, ready: Promise.resolve(), feed: undefined };
    log.ready = (async () => {
      log.feed = await this.hub.listen(MEMBERSHIP_EVENTS_FEED, name, {
        next: (event) => sequencer.push(event),
        error: (error) => {
          if (logs.get(name) === log) logs.delete(name);
          sequencer.dispose();
          for (const listener of [...listeners]) listener.error(error);
          listeners.clear();
        },
      });
      // Everyone left while the stream opened: leave() found no feed to close.
      if (logs.get(name) !== log) {
        log.feed.leave();
        return;
      }
      // Read after the stream is open: anything committed later is seen by the stream. The repository is
      // made here, once per shared log, so a subscriber holds none of its own.
      sequencer.start(await new MembershipEventsRepository(this.db).lastPosition());
    })();
    log.ready.catch(() => {
      if (logs.get(name) === log) logs.delete(name);
      log.feed?.leave();
    });
    return log;
  }
}
