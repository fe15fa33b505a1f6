/**
 * The `events` collection of one sandbox. Each event keeps the identity it
 * arrived with; a profile finds its events through its identity keys, so merges
 * and unmerges never rewrite events.
 */
import type { Collection, Db, Filter } from 'mongodb';
import type { Identity } from '../../lib/identity/namespaces.js';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';

export interface EventRecord {
  /** Derived from the event's source key (or content), so sending it again finds it. */
  id: string;
  sourceKey?: string;
  identity: Identity;
  identityKey: string;
  type: string;
  timestamp: Date;
  url?: string;
  campaign?: string;
  attributes?: JsonObject;
  ingestedAt: Date;
}

type EventDocument = Omit<EventRecord, 'id'> & { _id: string };

export interface EventPageQuery {
  identityKeys: readonly string[];
  type?: string;
  since?: Date;
  /** Events strictly older than this position (newest-first order). */
  before?: { timestamp: Date; id: string };
  limit: number;
}

const ensureIndexes = oncePerKey();

function toRecord({ _id, ...rest }: EventDocument): EventRecord {
  return { id: _id, ...rest };
}

export class EventsRepository {
  private readonly events: Collection<EventDocument>;

  constructor(private readonly db: Db) {
    this.events = db.collection<EventDocument>('events');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      this.events.createIndex({ identityKey: 1, timestamp: -1, _id: -1 }, { name: 'identity_time' }),
    );
  }

  /** One bulk write of replace-or-insert by id; returns the positions that were new. */
  async write(events: readonly EventRecord[]): Promise<Set<number>> {
    if (events.length === 0) return new Set();
    const result = await this.events.bulkWrite(
      events.map(({ id, ...rest }) => ({ replaceOne: { filter: { _id: id }, replacement: rest, upsert: true } })),
      { ordered: false },
    );
    return new Set(Object.keys(result.upsertedIds).map(Number));
  }

  /** Newest first, then by id descending: a stable order for cursors. */
  async page(query: EventPageQuery): Promise<EventRecord[]> {
    if (query.identityKeys.length === 0) return [];
    const filter: Filter<EventDocument> = { identityKey: { $in: [...query.identityKeys] } };
    if (query.type !== undefined) filter.type = query.type;
    const and: Filter<EventDocument>[] = [];
    if (query.since) and.push({ timestamp: { $gte: query.since } });
    if (query.before) {
      const { timestamp, id } = query.before;
      and.push({ $or: [{ timestamp: { $lt: timestamp } }, { timestamp, _id: { $lt: id } }] });
    }
    if (and.length > 0) filter.$and = and;
    const docs = await this.events.find(filter).sort({ timestamp: -1, _id: -1 }).limit(query.limit).toArray();
    return docs.map(toRecord);
  }
}
