/**
 * READ-ONLY VIEW of changes to the account subgraph's collections (`accounts`, `opportunities`,
 * `accountPersonRelations`, `opportunityContacts`), for the streaming segment evaluator: which
 * collections to watch, what one change says about the members it affects, and batched finders
 * from those facts to the other ends. It never writes, and works from the change's post-image
 * (or key) alone: links are never deleted and their two ends never change (they are the unique
 * key), so no pre-images are needed.
 */
import type { Db, Document } from 'mongodb';
import { ACCOUNTS_COLLECTION } from './account.view.js';
import { ACCOUNT_PERSON_LINKS, OPPORTUNITY_CONTACTS } from './personLinks.repository.js';

const OPPORTUNITIES_COLLECTION = 'opportunities';

/** The collections whose changes can change a person's or an account's segments. */
export const ACCOUNT_CHANGE_COLLECTIONS: readonly string[] = [
  ACCOUNTS_COLLECTION,
  OPPORTUNITIES_COLLECTION,
  ACCOUNT_PERSON_LINKS.collection,
  OPPORTUNITY_CONTACTS.collection,
];

/** The fields of a change's post-image that `accountChangeFacts` reads: a stream may project the rest away. */
export const ACCOUNT_CHANGE_FIELDS: readonly string[] = [...new Set(['accountId', 'previousAccountId', 'personKey', ACCOUNT_PERSON_LINKS.targetField])];

/** The parts of a change stream document the views read. */
export interface ChangeDocument {
  operationType: string;
  ns?: { db?: string; coll?: string };
  documentKey?: { _id?: unknown };
  fullDocument?: Document | null;
  updateDescription?: { updatedFields?: Document };
}

/** What one change says about the members it affects. */
export interface AccountChangeFacts {
  /** Accounts whose own data, opportunities or people changed: each an affected account member. */
  accountIds: string[];
  /** Accounts whose people are affected too (the account's own fields changed). */
  accountsOfPeople: string[];
  /** Opportunities whose contacts are affected. */
  opportunityIds: string[];
  /** Person link keys (`id:<profileId>`, `b2b_person:<sourceKey>`) of affected people. */
  personKeys: string[];
}

const text = (value: unknown): string[] => (typeof value === 'string' && value !== '' ? [value] : []);

/** Whether this change set an opportunity's account (a replace may have, too). */
function movedAccounts(change: ChangeDocument): boolean {
  if (change.operationType === 'replace') return true;
  return change.operationType === 'update' && 'accountId' in (change.updateDescription?.updatedFields ?? {});
}

/** The facts of one change to an account collection; null for a change to another collection. */
export function accountChangeFacts(change: ChangeDocument): AccountChangeFacts | null {
  const collection = change.ns?.coll;
  const id = change.documentKey?._id === undefined ? [] : [String(change.documentKey._id)];
  const full = change.fullDocument ?? null;
  switch (collection) {
    case ACCOUNTS_COLLECTION:
      return { accountIds: id, accountsOfPeople: id, opportunityIds: [], personKeys: [] };
    case OPPORTUNITIES_COLLECTION:
      // Its account sees it in `opportunities` (and the account it left, when this change moved it); its contacts see it in theirs.
      return { accountIds: [...text(full?.accountId), ...(movedAccounts(change) ? text(full?.previousAccountId) : [])], accountsOfPeople: [], opportunityIds: id, personKeys: [] };
    case ACCOUNT_PERSON_LINKS.collection:
      return { accountIds: text(full?.[ACCOUNT_PERSON_LINKS.targetField]), accountsOfPeople: [], opportunityIds: [], personKeys: text(full?.personKey) };
    case OPPORTUNITY_CONTACTS.collection:
      return { accountIds: [], accountsOfPeople: [], opportunityIds: [], personKeys: text(full?.personKey) };
    default:
      return null;
  }
}

async function distinctField(db: Db, collection: string, field: string, filter: Document): Promise<string[]> {
  const docs = await db.collection(collection).find(filter, { projection: { _id: 0, [field]: 1 } }).toArray();
  return [...new Set(docs.flatMap((doc) => text(doc[field])))];
}

/** The person keys linked to these accounts: one query on the `accountId` index. */
export function findPersonKeysOfAccounts(db: Db, accountIds: readonly string[]): Promise<string[]> {
  if (accountIds.length === 0) return Promise.resolve([]);
  return distinctField(db, ACCOUNT_PERSON_LINKS.collection, 'personKey', { [ACCOUNT_PERSON_LINKS.targetField]: { $in: [...new Set(accountIds)] } });
}

/** The person keys of these opportunities' contacts: one query on the `opportunityId` index. */
export function findPersonKeysOfOpportunities(db: Db, opportunityIds: readonly string[]): Promise<string[]> {
  if (opportunityIds.length === 0) return Promise.resolve([]);
  return distinctField(db, OPPORTUNITY_CONTACTS.collection, 'personKey', { [OPPORTUNITY_CONTACTS.targetField]: { $in: [...new Set(opportunityIds)] } });
}

/** The accounts linked to any of these person keys: one query on the `personKey` index. */
export function findAccountIdsOfPersonKeys(db: Db, personKeys: readonly string[]): Promise<string[]> {
  if (personKeys.length === 0) return Promise.resolve([]);
  return distinctField(db, ACCOUNT_PERSON_LINKS.collection, ACCOUNT_PERSON_LINKS.targetField, { personKey: { $in: [...new Set(personKeys)] } });
}

/** A page of account ids in id order after `after` (every account, for a full pass over a segment). */
export async function pageAccountIds(db: Db, after: string | null, limit: number): Promise<string[]> {
  const filter: Document = after === null ? {} : { _id: { $gt: after } };
  const docs = await db.collection(ACCOUNTS_COLLECTION).find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
  return docs.map((doc) => String(doc._id));
}
