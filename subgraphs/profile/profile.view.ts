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

function toPersonView(doc: Document, fields: readonly string[]): PersonView {
  return { id: String(doc._id), fields: pick(doc, fields), identityKeys: strings(doc.identityKeys), linkKeys: strings(doc[PERSON_LINK_KEYS_FIELD]) };
}

export interface PeopleQueryOptions {
  /** The person fields to read (a subset of PERSON_DOCUMENT_FIELDS); all of them by default. */
  fields?: readonly string[];
}

/**
 * Where the events of identity keys come from: every event of those keys at or after `since`
 * (null: every event), in no particular order; more is allowed (older events, which conditions
 * on time leave out themselves). `findEventsOfIdentityKeys` is one; a reader that follows the
 * events as they arrive (the streaming evaluator) can answer from memory.
 */
export type EventFinder = (identityKeys: readonly string[], since: Date | null) => Promise<KeyedEventView[]>;

export interface PeopleWithEventsOptions extends PeopleQueryOptions {
  /** Events kept per person, newest first (default MAX_EVENTS_PER_PERSON). */
  eventsPerPerson?: number;
  /** Only events at or after this time, when given (a segment's time windows need no older ones). */
  eventsSince?: Date | null;
  /** Where the events come from (default: one query, `findEventsOfIdentityKeys`). */
  findEvents?: EventFinder;
}

async function findPersonDocs(db: Db, filter: Document, fields: readonly string[]): Promise<PersonView[]> {
  const projection = Object.fromEntries([...fields, 'identityKeys', PERSON_LINK_KEYS_FIELD].map((field) => [field, 1]));
  const docs = await db.collection(PEOPLE_COLLECTION).find(filter, { projection }).toArray();
  return docs.map((doc) => toPersonView(doc, fields));
}

export interface KeyedEventView extends EventView {
  /** The identity key the event arrived with. */
  identityKey: string;
}

/**
 * Events that arrived with any of these identity keys (at or after `since` when given): one `$in`
 * query on the events' `{ identityKey, timestamp }` index, in no particular order.
 */
export async function findEventsOfIdentityKeys(db: Db, identityKeys: readonly string[], since: Date | null = null): Promise<KeyedEventView[]> {
  if (identityKeys.length === 0) return [];
  const filter: Document = { identityKey: { $in: [...identityKeys] } };
  if (since) filter.timestamp = { $gte: since };
  const projection = Object.fromEntries([...EVENT_DOCUMENT_FIELDS, 'identityKey'].map((field) => [field, 1]));
  const docs = await db.collection(EVENTS_COLLECTION).find(filter, { projection }).toArray();
  return docs.map(toKeyedEventView);
}

/** An event document (with at least `_id`, `identityKey` and the fields of EVENT_DOCUMENT_FIELDS it has) as the finders return it. */
export function toKeyedEventView(doc: Document): KeyedEventView {
  return { id: String(doc._id), identityKey: String(doc.identityKey), fields: pick(doc, EVENT_DOCUMENT_FIELDS) };
}

/** Newest first, then by id descending: the order of the events' index. */
function newestFirst(a: KeyedEventView, b: KeyedEventView): number {
  const at = a.fields.timestamp instanceof Date ? a.fields.timestamp.getTime() : Number.NEGATIVE_INFINITY;
  const bt = b.fields.timestamp instanceof Date ? b.fields.timestamp.getTime() : Number.NEGATIVE_INFINITY;
  if (at !== bt) return bt > at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Two queries for any number of people (the people, then their events by identity key), joined
 * here by key: cheaper than a `$lookup` per person, and the same on every server.
 */
async function withEvents(db: Db, people: PersonView[], options: PeopleWithEventsOptions): Promise<PersonWithEvents[]> {
  const limit = options.eventsPerPerson ?? MAX_EVENTS_PER_PERSON;
  const findEvents: EventFinder = options.findEvents ?? ((keys, since) => findEventsOfIdentityKeys(db, keys, since));
  const events = await findEvents([...new Set(people.flatMap((person) => person.identityKeys))], options.eventsSince ?? null);
  const byKey = new Map<string, KeyedEventView[]>();
  for (const event of events) {
    const list = byKey.get(event.identityKey);
    if (list) list.push(event);
    else byKey.set(event.identityKey, [event]);
  }
  return people.map((person) => {
    const own = person.identityKeys.length === 1 ? (byKey.get(person.identityKeys[0]!) ?? []) : [...new Set(person.identityKeys.flatMap((key) => byKey.get(key) ?? []))];
    own.sort(newestFirst);
    return { ...person, events: own.slice(0, limit).map(({ id, fields }) => ({ id, fields })) };
  });
}

/** People by id, each with its newest events: two queries for the whole batch. */
export async function findPeopleWithEvents(db: Db, ids: readonly string[], options: PeopleWithEventsOptions = {}): Promise<PersonWithEvents[]> {
  if (ids.length === 0) return [];
  return withEvents(db, await findPersonDocs(db, { _id: { $in: [...ids] } }, options.fields ?? PERSON_DOCUMENT_FIELDS), options);
}

/** People by id, without their events (activation sends people, not their history): one `$in` query. */
export async function findPeople(db: Db, ids: readonly string[], options: PeopleQueryOptions = {}): Promise<PersonView[]> {
  if (ids.length === 0) return [];
  return findPersonDocs(db, { _id: { $in: [...ids] } }, options.fields ?? PERSON_DOCUMENT_FIELDS);
}

/** People holding any of these link keys, without their events: one query on the `linkKeys` index. */
export async function findPeopleByLinkKeys(db: Db, linkKeys: readonly string[], options: PeopleQueryOptions = {}): Promise<PersonView[]> {
  if (linkKeys.length === 0) return [];
  return findPersonDocs(db, { [PERSON_LINK_KEYS_FIELD]: { $in: [...linkKeys] } }, options.fields ?? PERSON_DOCUMENT_FIELDS);
}

/** People holding any of these link keys, each with its newest events: two queries. */
export async function findPeopleByLinkKeysWithEvents(db: Db, linkKeys: readonly string[], options: PeopleWithEventsOptions = {}): Promise<PersonWithEvents[]> {
  if (linkKeys.length === 0) return [];
  return withEvents(db, await findPeopleByLinkKeys(db, linkKeys, options), options);
}

/** The next page of person ids after `afterId` (from the first when null), in `_id` order: one indexed query. */
export async function pagePersonIds(db: Db, afterId: string | null, limit: number): Promise<string[]> {
  const filter: Document = afterId === null ? {} : { _id: { $gt: afterId } };
  const docs = await db.collection(PEOPLE_COLLECTION).find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
  return docs.map((doc) => String(doc._id));
}
