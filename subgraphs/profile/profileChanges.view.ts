/**
 * READ-ONLY VIEW of changes to the profile subgraph's collections (`people`, `events`), for the
 * streaming segment evaluator: which collections to watch, what one change says about the
 * people it affects, and batched finders from those facts to person ids. It never writes, and
 * works from the change's post-image (or key) alone, so no pre-images are needed.
 *
 * A merge rewrites the survivor and deletes the merged-away profile; an unmerge inserts the
 * split-off profiles and rewrites the one they left: every profile involved shows up as a
 * change to `people`, so merges need nothing of their own here.
 */
import type { Db, Document } from 'mongodb';
import { EVENT_DOCUMENT_FIELDS, PEOPLE_COLLECTION, PERSON_LINK_KEYS_FIELD, toKeyedEventView, type KeyedEventView } from './profile.view.js';

/** The collection of events: a stream may carry its documents whole (EVENT_CHANGE_FIELDS), for `eventChange`. */
export const EVENTS_COLLECTION = 'events';

/** The collections whose changes can change a person's segments. */
export const PROFILE_CHANGE_COLLECTIONS: readonly string[] = [PEOPLE_COLLECTION, EVENTS_COLLECTION];

/** The fields of a change's post-image that `profileChangeFacts` reads: a stream may project the rest away. */
export const PROFILE_CHANGE_FIELDS: readonly string[] = [PERSON_LINK_KEYS_FIELD, 'identityKey', 'previousIdentityKey'];

/** The parts of a change stream document the views read. */
export interface ChangeDocument {
  operationType: string;
  ns?: { db?: string; coll?: string };
  documentKey?: { _id?: unknown };
  fullDocument?: Document | null;
}

/** What one change says about the people it affects. */
export interface ProfileChangeFacts {
  /** Profiles changed, created or deleted (merged away): re-evaluate each by id. */
  personIds: string[];
  /** Link keys of changed profiles (to find their accounts), when the post-image has them. */
  linkKeys: string[];
  /** Identity keys of changed events: their person is the one holding the key. */
  identityKeys: string[];
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The facts of one change to a profile collection; null for a change to another collection. */
export function profileChangeFacts(change: ChangeDocument): ProfileChangeFacts | null {
  const collection = change.ns?.coll;
  const id = change.documentKey?._id;
  const full = change.fullDocument ?? null;
  if (collection === PEOPLE_COLLECTION) {
    return { personIds: id === undefined ? [] : [String(id)], linkKeys: full ? strings(full[PERSON_LINK_KEYS_FIELD]) : [], identityKeys: [] };
  }
  if (collection === EVENTS_COLLECTION) {
    // An event keeps the identity it arrived with; one sent again under another identity names the key it left (its
    // person loses the event). A deleted one leaves no key to follow (events are never deleted).
    const keys = change.operationType === 'insert' ? [full?.identityKey] : [full?.identityKey, full?.previousIdentityKey];
    return { personIds: [], linkKeys: [], identityKeys: keys.filter((key): key is string => typeof key === 'string') };
  }
  return null;
}

/** The post-image fields of an event change that `eventChange` reads: the whole event as the finders return it. */
export const EVENT_CHANGE_FIELDS: readonly string[] = [...EVENT_DOCUMENT_FIELDS, 'identityKey'];

/**
 * What a change to `events` does to the events stored: an insert adds the event of its
 * post-image; anything else (an event sent again replaces the stored one, maybe under another
 * identity key) rewrites an event. Null for a change to another collection.
 */
export type EventChange = { kind: 'inserted'; event: KeyedEventView } | { kind: 'rewritten' } | null;

export function eventChange(change: ChangeDocument): EventChange {
  if (change.ns?.coll !== EVENTS_COLLECTION) return null;
  const full = change.fullDocument;
  if (change.operationType === 'insert' && full && typeof full.identityKey === 'string' && change.documentKey?._id !== undefined) {
    return { kind: 'inserted', event: toKeyedEventView({ ...full, _id: change.documentKey._id }) };
  }
  return { kind: 'rewritten' };
}

export interface PersonKeys {
  id: string;
  linkKeys: string[];
  identityKeys: string[];
}

const KEYS_PROJECTION = { _id: 1, identityKeys: 1, [PERSON_LINK_KEYS_FIELD]: 1 };
const toPersonKeys = (doc: Document): PersonKeys => ({ id: String(doc._id), linkKeys: strings(doc[PERSON_LINK_KEYS_FIELD]), identityKeys: strings(doc.identityKeys) });

/** The people holding any of these identity keys, with their keys: one query on the identity index. */
export async function findPeopleByIdentityKeys(db: Db, identityKeys: readonly string[]): Promise<PersonKeys[]> {
  if (identityKeys.length === 0) return [];
  const docs = await db
    .collection(PEOPLE_COLLECTION)
    .find({ identityKeys: { $in: [...new Set(identityKeys)] } } as Document, { projection: KEYS_PROJECTION })
    .toArray();
  return docs.map(toPersonKeys);
}

/** The people holding any of these link keys (the person ends of account links): one query on the `linkKeys` index. */
export async function findPeopleByLinkKeys(db: Db, linkKeys: readonly string[]): Promise<PersonKeys[]> {
  if (linkKeys.length === 0) return [];
  const docs = await db
    .collection(PEOPLE_COLLECTION)
    .find({ [PERSON_LINK_KEYS_FIELD]: { $in: [...new Set(linkKeys)] } }, { projection: KEYS_PROJECTION })
    .toArray();
  return docs.map(toPersonKeys);
}

/** The link keys of these people: one query by id. */
export async function findLinkKeysOfPeople(db: Db, personIds: readonly string[]): Promise<PersonKeys[]> {
  if (personIds.length === 0) return [];
  const docs = await db
    .collection(PEOPLE_COLLECTION)
    .find({ _id: { $in: [...new Set(personIds)] } } as Document, { projection: KEYS_PROJECTION })
    .toArray();
  return docs.map(toPersonKeys);
}

/** A page of person ids in id order after `after` (every person, for a full pass over a segment). */
export async function pagePersonIds(db: Db, after: string | null, limit: number): Promise<string[]> {
  const filter: Document = after === null ? {} : { _id: { $gt: after } };
  const docs = await db.collection(PEOPLE_COLLECTION).find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
  return docs.map((doc) => String(doc._id));
}
