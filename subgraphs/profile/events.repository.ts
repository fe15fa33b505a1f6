/**
 * The `events` collection of one sandbox. Each event keeps the identity it
 * arrived with; a profile finds its events through its identity keys, so merges
 * and unmerges never rewrite events.
 */
import { MongoBulkWriteError, type Collection, type Db, type Filter } from 'mongodb';
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

type EventDocument = Omit<EventRecord, 'id'> & {
  _id: string;
  /**
   * The identity key a re-sent event was stored under before, when it differed: the person who
   * held it loses the event, and readers of the change (the streaming evaluator) learn who that
   * was, since a replaced document's earlier content is not on the change.
   */
  previousIdentityKey?: string;
};

export interface EventPageQuery {
  identityKeys: readonly string[];
  type?: string;
  since?: Date;
  /** Events strictly older than this position (newest-first order). */
  before?: { timestamp: Date; id: string };
  limit: number;
}

const DUPLICATE_KEY = 11000;
const ensureIndexes = oncePerKey();

function toRecord({ _id, previousIdentityKey: _previous, ...rest }: EventDocument): EventRecord {
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

  /**
   * Inserts the events, then replaces whole the ones whose id was already stored
   * (sent before); returns the positions that were new. Inserting first keeps the
   * common case, new events, to the cheapest write.
   */
  async write(events: readonly EventRecord[]): Promise<Set<number>> {
    if (events.length === 0) return new Set();
    const documents = events.map(({ id, ...rest }): EventDocument => ({ _id: id, ...rest }));
    const stored = new Set<number>();
    try {
      await this.events.insertMany(documents, { ordered: false });
    } catch (error) {
      const errors = error instanceof MongoBulkWriteError ? error.writeErrors : [];
      const list = Array.isArray(errors) ? errors : [errors];
      if (list.length === 0 || list.some((entry) => entry.code !== DUPLICATE_KEY)) throw error;
      for (const entry of list) stored.add(entry.index);
    }
    const created = new Set(events.keys());
    if (stored.size > 0) {
      const before = await this.storedKeys([...stored].map((position) => documents[position]!._id));
      const result = await this.events.bulkWrite(
        [...stored].map((position) => {
          const { _id, ...replacement } = documents[position]!;
          const previous = before.get(_id);
          const document: Omit<EventDocument, '_id'> = previous !== undefined && previous !== replacement.identityKey ? { ...replacement, previousIdentityKey: previous } : replacement;
          return { replaceOne: { filter: { _id }, replacement: document, upsert: true } };
        }),
        { ordered: false },
      );
      const upserted = new Set(Object.keys(result.upsertedIds).map(Number));
      // One gone since the insert failed is upserted: new after all.
      [...stored].forEach((position, order) => {
        if (!upserted.has(order)) created.delete(position);
      });
    }
    return created;
  }

  /** The identity keys stored events are under now, by id. */
  private async storedKeys(ids: readonly string[]): Promise<Map<string, string>> {
    const docs = await this.events.find({ _id: { $in: [...ids] } }, { projection: { identityKey: 1 } }).toArray();
    return new Map(docs.map((doc) => [doc._id, doc.identityKey]));
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
