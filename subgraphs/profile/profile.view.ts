/**
 * READ-ONLY VIEW of the profile subgraph's collections (`people`, `events`) for other subgraphs.
 *
 * Rule: every collection has one owning module, and code outside the owning subgraph never names
 * another subgraph's collection. A cross-subgraph reader (segment evaluation) reads through this
 * module only: collection names a pipeline starts from, `$lookup` builders, and batched finders.
 * It never writes, and imports only `mongodb` types, `lib/` and the profile subgraph's own modules.
 */
import type { Db, Document } from 'mongodb';
import { PERSON_FIELDS } from './profileView.js';

/** A `$lookup`'s `pipeline` option; left out when empty (a plain equality join). */
function withPipeline(pipeline: Document[]): { pipeline?: Document[] } {
  return pipeline.length > 0 ? { pipeline } : {};
}

/** The collection a person pipeline starts from. */
export const PEOPLE_COLLECTION = 'people';
const EVENTS_COLLECTION = 'events';

/** The multikey field of a person document holding its link keys (`id:<id>`, `b2b_person:<sourceKey>`), indexed. */
export const PERSON_LINK_KEYS_FIELD = 'linkKeys';

/** Stored fields of a person document that readers may see, besides `_id`: the person fields, consents and custom attributes. */
export const PERSON_DOCUMENT_FIELDS: readonly string[] = [...PERSON_FIELDS, 'consents', 'attributes'];

/** Stored fields of an event document that readers may see, besides `_id`. */
export const EVENT_DOCUMENT_FIELDS: readonly string[] = ['type', 'timestamp', 'url', 'campaign', 'attributes'];

/** Events kept per person by the finders, newest first; aggregations (`eventsOfPersonLookup`) see them all. */
export const MAX_EVENTS_PER_PERSON = 10_000;

export interface PersonView {
  id: string;
  /** Only the fields of PERSON_DOCUMENT_FIELDS present in the document, as stored. */
  fields: Readonly<Record<string, unknown>>;
  identityKeys: readonly string[];
  /** Empty for a profile stored before link keys were (see PeopleRepository.addMissingLinkKeys). */
  linkKeys: readonly string[];
}

export interface EventView {
  id: string;
  /** Only the fields of EVENT_DOCUMENT_FIELDS present in the document, as stored. */
  fields: Readonly<Record<string, unknown>>;
}

export interface PersonWithEvents extends PersonView {
  /** Newest first, at most MAX_EVENTS_PER_PERSON. */
  events: EventView[];
}

/**
 * `$lookup` of a person's events (those arriving with one of the person's identity keys), on the
 * events' `{ identityKey, timestamp }` index; `pipeline` runs over them (filter, count, limit).
 */
export function eventsOfPersonLookup(options: { as: string; pipeline: Document[] }): Document {
  return { $lookup: { from: EVENTS_COLLECTION, localField: 'identityKeys', foreignField: 'identityKey', ...withPipeline(options.pipeline), as: options.as } };
}

/** `$lookup` of the people holding the link key(s) at `localField`, on the `linkKeys` index. */
export function peopleByLinkKeyLookup(options: { localField: string; as: string; pipeline: Document[] }): Document {
  return { $lookup: { from: PEOPLE_COLLECTION, localField: options.localField, foreignField: PERSON_LINK_KEYS_FIELD, ...withPipeline(options.pipeline), as: options.as } };
}

function pick(doc: Document, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (field in doc) out[field] = doc[field];
  return out;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toPersonWithEvents(doc: Document): PersonWithEvents {
  return {
    id: String(doc._id),
    fields: pick(doc, PERSON_DOCUMENT_FIELDS),
    identityKeys: strings(doc.identityKeys),
    linkKeys: strings(doc[PERSON_LINK_KEYS_FIELD]),
    events: (doc.events as Document[]).map((event) => ({ id: String(event._id), fields: pick(event, EVENT_DOCUMENT_FIELDS) })),
  };
}

async function peopleWithEvents(db: Db, match: Document, eventsPerPerson: number): Promise<PersonWithEvents[]> {
  const docs = await db
    .collection(PEOPLE_COLLECTION)
    .aggregate([
      { $match: match },
      eventsOfPersonLookup({ as: 'events', pipeline: [{ $sort: { timestamp: -1, _id: -1 } }, { $limit: eventsPerPerson }] }),
    ])
    .toArray();
  return docs.map(toPersonWithEvents);
}

/** People by id, each with its newest events: one aggregation for the whole batch. */
export function findPeopleWithEvents(db: Db, ids: readonly string[], eventsPerPerson = MAX_EVENTS_PER_PERSON): Promise<PersonWithEvents[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return peopleWithEvents(db, { _id: { $in: [...ids] } }, eventsPerPerson);
}

/** People by id, without their events (activation sends people, not their history): one `$in` query. */
export async function findPeople(db: Db, ids: readonly string[]): Promise<PersonView[]> {
  if (ids.length === 0) return [];
  const projection = Object.fromEntries([...PERSON_DOCUMENT_FIELDS, 'identityKeys', PERSON_LINK_KEYS_FIELD].map((field) => [field, 1]));
  const docs = await db.collection(PEOPLE_COLLECTION).find({ _id: { $in: [...ids] } } as Document, { projection }).toArray();
  return docs.map((doc) => ({ id: String(doc._id), fields: pick(doc, PERSON_DOCUMENT_FIELDS), identityKeys: strings(doc.identityKeys), linkKeys: strings(doc[PERSON_LINK_KEYS_FIELD]) }));
}

/** People holding any of these link keys, each with its newest events: one aggregation. */
export function findPeopleByLinkKeysWithEvents(db: Db, linkKeys: readonly string[], eventsPerPerson = MAX_EVENTS_PER_PERSON): Promise<PersonWithEvents[]> {
  if (linkKeys.length === 0) return Promise.resolve([]);
  return peopleWithEvents(db, { [PERSON_LINK_KEYS_FIELD]: { $in: [...linkKeys] } }, eventsPerPerson);
}

/** The next page of person ids after `afterId` (from the first when null), in `_id` order: one indexed query. */
export async function pagePersonIds(db: Db, afterId: string | null, limit: number): Promise<string[]> {
  const filter: Document = afterId === null ? {} : { _id: { $gt: afterId } };
  const docs = await db.collection(PEOPLE_COLLECTION).find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
  return docs.map((doc) => String(doc._id));
}
