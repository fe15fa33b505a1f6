/**
 * The change stream of one sandbox database, limited to the collections whose changes can
 * change a membership: the profile and account subgraphs' collections (named by their change
 * views), memberships (for `inSegment` chains) and segment definitions. Each change carries
 * the few post-image fields the evaluator reads; an event, the whole event. Read in batches: the
 * first read waits up to `maxAwaitMs` for a change, the rest of a batch is what the driver
 * already holds, so memory stays at one server batch plus one evaluator batch.
 */
import { MongoServerError, type ChangeStream, type Db, type Document } from 'mongodb';
import { ACCOUNT_CHANGE_COLLECTIONS, ACCOUNT_CHANGE_FIELDS } from '../../account/accountChanges.view.js';
import {
  EVENT_CHANGE_FIELDS,
  EVENTS_COLLECTION,
  PROFILE_CHANGE_COLLECTIONS,
  PROFILE_CHANGE_FIELDS,
  type ChangeDocument,
} from '../../profile/profileChanges.view.js';
import { MEMBERSHIPS_COLLECTION } from '../memberships.layout.js';
import { STREAM_RUN_PREFIX } from './layout.js';

/** Segment definitions (owned by `segments.repository.ts` in this subgraph). */
export const SEGMENTS_COLLECTION = 'segments';

export const WATCHED_COLLECTIONS: readonly string[] = [...PROFILE_CHANGE_COLLECTIONS, ...ACCOUNT_CHANGE_COLLECTIONS, MEMBERSHIPS_COLLECTION, SEGMENTS_COLLECTION];

/**
 * The post-image fields the evaluator reads: those the change views name, and of memberships and
 * segment definitions what `affectedMembers` reads. The stream carries only these (and an
 * event's own fields), not whole profiles: a change costs the server and the evaluator a few
 * keys, not a document.
 */
const POST_IMAGE_FIELDS: readonly string[] = [
  ...new Set([...PROFILE_CHANGE_FIELDS, ...ACCOUNT_CHANGE_FIELDS, 'segmentId', 'memberId', 'memberType', 'status', 'runId', 'targetEntity']),
];

/**
 * The fields only an event change carries: the whole event, so the evaluator follows each
 * person's events as they arrive instead of reading them again (knownEvents.ts). Other
 * collections' documents may have fields of the same names (`type`, `attributes`), not carried.
 */
const EVENT_ONLY_FIELDS = EVENT_CHANGE_FIELDS.filter((field) => !POST_IMAGE_FIELDS.includes(field));
const IS_EVENT_CHANGE = { $eq: ['$ns.coll', EVENTS_COLLECTION] };

/** Every watched collection but memberships, whose changes are filtered further. */
const DATA_COLLECTIONS = WATCHED_COLLECTIONS.filter((collection) => collection !== MEMBERSHIPS_COLLECTION);
/** The run ids streaming stamps (the prefix is letters and a colon: nothing to escape). */
const STREAM_RUN = new RegExp(`^${STREAM_RUN_PREFIX}`);

/**
 * The membership changes that matter to the evaluator, chosen on the server: every membership it
 * writes comes back on this stream, and most need no look. Every change another writer made (a
 * batch run, an expiry, a deletion, which carries no post-image): `affectedMembers` re-evaluates
 * after a batch run's entries and exits, so streaming learns their windows, and the statuses the
 * evaluator remembers are read afresh (knownStatuses.ts). Of its own, entries and exits of
 * segments that `inSegment` uses.
 */
function membershipChangesThatMatter(usedSegments: readonly string[]): Document {
  return {
    'ns.coll': MEMBERSHIPS_COLLECTION,
    $or: [
      { 'fullDocument.runId': { $not: STREAM_RUN } },
      { 'fullDocument.segmentId': { $in: [...usedSegments] }, 'fullDocument.status': { $in: ['realized', 'exited'] } },
    ],
  };
}

/** A change as the evaluator reads it. */
export interface FeedChange extends ChangeDocument {
  /** When the change happened, by the server's clock (null when the server does not say). */
  wallTime: Date | null;
  updateDescription?: { updatedFields?: Document };
}

/** Codes of a resume token the server can no longer resume from. */
const LOST_HISTORY_CODES = new Set([260, 280, 286]);

/** The stored resume token cannot be resumed from (the oplog moved past it, or it is not a token of this server). */
export function isLostHistory(error: unknown): boolean {
  return error instanceof MongoServerError && typeof error.code === 'number' && LOST_HISTORY_CODES.has(error.code);
}

export interface ChangeFeedOptions {
  resumeToken: unknown;
  /** Segments other segments use with `inSegment`: streaming's own membership changes matter only for these. */
  usedSegments: readonly string[];
  /** How long the first read of a batch waits on the server for a change. */
  maxAwaitMs: number;
  /** Changes the server sends per reply. */
  serverBatchSize: number;
}

export class ChangeFeed {
  private readonly stream: ChangeStream<Document, Document>;
  private invalidatedFlag = false;

  constructor(db: Db, options: ChangeFeedOptions) {
    const pipeline: Document[] = [
      { $match: { $or: [{ 'ns.coll': { $in: DATA_COLLECTIONS } }, membershipChangesThatMatter(options.usedSegments), { operationType: 'invalidate' }] } },
      {
        $project: {
          operationType: 1,
          ns: 1,
          documentKey: 1,
          wallTime: 1,
          clusterTime: 1,
          'updateDescription.updatedFields': 1,
          ...Object.fromEntries(POST_IMAGE_FIELDS.map((field) => [`fullDocument.${field}`, 1])),
          ...Object.fromEntries(EVENT_ONLY_FIELDS.map((field) => [`fullDocument.${field}`, { $cond: [IS_EVENT_CHANGE, `$fullDocument.${field}`, '$$REMOVE'] }])),
        },
      },
    ];
    this.stream = db.watch(pipeline, {
      fullDocument: 'updateLookup',
      maxAwaitTimeMS: options.maxAwaitMs,
      batchSize: options.serverBatchSize,
      ...(options.resumeToken ? { resumeAfter: options.resumeToken } : {}),
    });
  }

  /** Whether the stream was invalidated (the sandbox database was dropped): the caller starts afresh. */
  get invalidated(): boolean {
    return this.invalidatedFlag;
  }

  /** The token to resume after every change read so far. */
  get resumeToken(): unknown {
    return this.stream.resumeToken ?? null;
  }

  /** Changes the driver holds that were not read yet. */
  buffered(): number {
    return this.stream.bufferedCount();
  }

  /** Up to `max` changes: waits (up to maxAwaitMs) for the first, then takes what is already buffered. */
  async read(max: number): Promise<FeedChange[]> {
    const changes: FeedChange[] = [];
    if (this.invalidatedFlag) return changes;
    const first = await this.stream.tryNext();
    if (!first) return changes;
    this.push(changes, first);
    while (changes.length < max && this.stream.bufferedCount() > 0 && !this.invalidatedFlag) {
      const next = await this.stream.tryNext();
      if (!next) break;
      this.push(changes, next);
    }
    return changes;
  }

  private push(changes: FeedChange[], doc: Document): void {
    if (doc.operationType === 'invalidate') {
      this.invalidatedFlag = true;
      return;
    }
    const clusterSeconds = typeof doc.clusterTime?.getHighBits === 'function' ? (doc.clusterTime.getHighBits() as number) : null;
    changes.push({
      operationType: String(doc.operationType),
      ns: doc.ns,
      documentKey: doc.documentKey,
      fullDocument: doc.fullDocument ?? null,
      updateDescription: doc.updateDescription,
      wallTime: doc.wallTime instanceof Date ? doc.wallTime : clusterSeconds === null ? null : new Date(clusterSeconds * 1000),
    });
  }

  async close(): Promise<void> {
    await this.stream.close().catch(() => undefined);
  }
}
