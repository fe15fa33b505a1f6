/**
 * READ-ONLY VIEW of the account subgraph's collections (`accounts`, `opportunities`,
 * `accountPersonRelations`, `opportunityContacts`) for other subgraphs.
 *
 * Rule: every collection has one owning module, and code outside the owning subgraph never names
 * another subgraph's collection. A cross-subgraph reader (segment evaluation) reads through this
 * module only: collection names a pipeline starts from, `$lookup` and stage builders, and batched
 * finders. It never writes, and imports only `mongodb` types, `lib/` and the account subgraph's own
 * repositories and types.
 */
import type { Db, Document } from 'mongodb';
import { ACCOUNT_PERSON_LINKS, OPPORTUNITY_CONTACTS, type PersonLinkKind } from './personLinks.repository.js';

/** A `$lookup`'s `pipeline` option; left out when empty (a plain equality join). */
function withPipeline(pipeline: Document[]): { pipeline?: Document[] } {
  return pipeline.length > 0 ? { pipeline } : {};
}

/** The collection an account pipeline starts from. */
export const ACCOUNTS_COLLECTION = 'accounts';
const OPPORTUNITIES_COLLECTION = 'opportunities';

/** Stored fields of an account document that readers may see, besides `_id`. */
export const ACCOUNT_DOCUMENT_FIELDS: readonly string[] = ['name', 'domain', 'industry', 'annualRevenue', 'employees', 'country', 'type', 'attributes'];

/** Stored fields of an opportunity document that readers may see, besides `_id`. */
export const OPPORTUNITY_DOCUMENT_FIELDS: readonly string[] = ['accountId', 'name', 'stage', 'amount', 'currency', 'closeDate', 'isClosed', 'isWon', 'attributes'];

/** A person's link to an account (`accounts`) or to an opportunity as a contact (`opportunities`). */
export type LinkKind = 'accounts' | 'opportunities';

const KINDS: Record<LinkKind, PersonLinkKind> = { accounts: ACCOUNT_PERSON_LINKS, opportunities: OPPORTUNITY_CONTACTS };

/** The link's role field as readers name it: `jobRole` for account links, `role` for opportunity contacts. */
export function linkRoleField(kind: LinkKind): 'jobRole' | 'role' {
  return KINDS[kind].roleField;
}

export interface RecordView {
  id: string;
  /** Only the documented fields present in the document, as stored. */
  fields: Readonly<Record<string, unknown>>;
}

export interface LinkView {
  id: string;
  targetId: string;
  personKey: string;
  isPrimary: boolean;
  /** `jobRole` or `role`; null when the link has none. */
  role: unknown;
  updatedAt: Date | null;
}

export interface LinkWithTarget extends LinkView {
  /** The account or opportunity; null when it is gone. */
  target: RecordView | null;
}

/**
 * Which of several links to the same account or opportunity (a merged person linked under two
 * keys) speaks for it, and which primary link names a person's primary account: primary first,
 * then the most recently updated, then the smallest link id. `preferredLinkStages` is the same
 * order inside an aggregation over links.
 */
export function comparePreferredLinks(a: LinkView, b: LinkView): number {
  if (a.isPrimary !== b.isPrimary) return a.isPrimary ? -1 : 1;
  const at = a.updatedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  const bt = b.updatedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  if (at !== bt) return bt > at ? 1 : -1;
  return compareCodePoints(a.id, b.id);
}

/** Strings as MongoDB sorts them: by code point (UTF-8 bytes), not by UTF-16 unit. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
  }
  return x.length - y.length;
}

/** Sorts links (the documents of the current stage) in `comparePreferredLinks` order; adds the field `__preferPrimary`. */
export function preferredLinkStages(): Document[] {
  return [{ $addFields: { __preferPrimary: { $eq: ['$isPrimary', true] } } }, { $sort: { __preferPrimary: -1, updatedAt: -1, _id: 1 } }];
}

/** The expression of a link document's id of its account or opportunity. */
export function linkTargetIdExpression(kind: LinkKind): string {
  return `$${KINDS[kind].targetField}`;
}

/** `$lookup` of the links of the person whose link keys are at `localField` (one or an array), on the `personKey` index. */
export function linksOfPersonLookup(kind: LinkKind, options: { localField: string; as: string; pipeline: Document[] }): Document {
  return { $lookup: { from: KINDS[kind].collection, localField: options.localField, foreignField: 'personKey', ...withPipeline(options.pipeline), as: options.as } };
}

/** `$lookup` of a link's account or opportunity (at most one), by `_id`; `pipeline` may filter it. */
export function linkTargetLookup(kind: LinkKind, options: { as: string; pipeline: Document[] }): Document {
  const { targetField, targetCollection } = KINDS[kind];
  return { $lookup: { from: targetCollection, localField: targetField, foreignField: '_id', ...withPipeline(options.pipeline), as: options.as } };
}

/** `$lookup` of an account's person links (`accountPersonRelations`), on the `accountId` index. */
export function peopleLinksOfAccountLookup(options: { as: string; pipeline: Document[] }): Document {
  return { $lookup: { from: ACCOUNT_PERSON_LINKS.collection, localField: '_id', foreignField: 'accountId', ...withPipeline(options.pipeline), as: options.as } };
}

/** `$lookup` of an account's opportunities, on the `accountId` index. */
export function opportunitiesOfAccountLookup(options: { as: string; pipeline: Document[] }): Document {
  return { $lookup: { from: OPPORTUNITIES_COLLECTION, localField: '_id', foreignField: 'accountId', ...withPipeline(options.pipeline), as: options.as } };
}

function pick(doc: Document, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (field in doc) out[field] = doc[field];
  return out;
}

function toRecordView(doc: Document, fields: readonly string[]): RecordView {
  return { id: String(doc._id), fields: pick(doc, fields) };
}

function toLinkView(doc: Document, kind: PersonLinkKind): LinkView {
  const role = doc[kind.roleField];
  return {
    id: String(doc._id),
    targetId: String(doc[kind.targetField]),
    personKey: String(doc.personKey),
    isPrimary: doc.isPrimary === true,
    role: role === undefined ? null : role,
    updatedAt: doc.updatedAt instanceof Date ? doc.updatedAt : null,
  };
}

const TARGET_FIELDS: Record<LinkKind, readonly string[]> = { accounts: ACCOUNT_DOCUMENT_FIELDS, opportunities: OPPORTUNITY_DOCUMENT_FIELDS };

/** Accounts by id: one query. */
export async function findAccounts(db: Db, ids: readonly string[]): Promise<RecordView[]> {
  if (ids.length === 0) return [];
  const docs = await db.collection(ACCOUNTS_COLLECTION).find({ _id: { $in: [...ids] } } as Document).toArray();
  return docs.map((doc) => toRecordView(doc, ACCOUNT_DOCUMENT_FIELDS));
}

/** The opportunities of these accounts: one query on the `accountId` index. */
export async function findOpportunitiesOfAccounts(db: Db, accountIds: readonly string[]): Promise<RecordView[]> {
  if (accountIds.length === 0) return [];
  const docs = await db.collection(OPPORTUNITIES_COLLECTION).find({ accountId: { $in: [...accountIds] } }).toArray();
  return docs.map((doc) => toRecordView(doc, OPPORTUNITY_DOCUMENT_FIELDS));
}

/** The person links of these accounts: one query on the `accountId` index. */
export async function findPeopleLinksOfAccounts(db: Db, accountIds: readonly string[]): Promise<LinkView[]> {
  if (accountIds.length === 0) return [];
  const docs = await db.collection(ACCOUNT_PERSON_LINKS.collection).find({ accountId: { $in: [...accountIds] } }).toArray();
  return docs.map((doc) => toLinkView(doc, ACCOUNT_PERSON_LINKS));
}

/** The links of these person keys, without their accounts or opportunities: one query on the `personKey` index. */
async function findLinksOfPersonKeys(db: Db, kind: LinkKind, personKeys: readonly string[]): Promise<LinkView[]> {
  if (personKeys.length === 0) return [];
  const linkKind = KINDS[kind];
  const docs = await db.collection(linkKind.collection).find({ personKey: { $in: [...personKeys] } }).toArray();
  return docs.map((doc) => toLinkView(doc, linkKind));
}

/**
 * Every link of these person keys with its account or opportunity: two queries (the links on the
 * `personKey` index, then their targets by `_id`), joined here by id.
 */
export async function findLinksOfPeople(db: Db, kind: LinkKind, personKeys: readonly string[]): Promise<LinkWithTarget[]> {
  const links = await findLinksOfPersonKeys(db, kind, personKeys);
  if (links.length === 0) return [];
  const targetIds = [...new Set(links.map((link) => link.targetId))];
  const targets = await db.collection(KINDS[kind].targetCollection).find({ _id: { $in: targetIds } } as Document).toArray();
  const byId = new Map(targets.map((doc) => [String(doc._id), toRecordView(doc, TARGET_FIELDS[kind])]));
  return links.map((link) => ({ ...link, target: byId.get(link.targetId) ?? null }));
}

/** The next page of account ids after `afterId` (from the first when null), in `_id` order: one indexed query. */
export async function pageAccountIds(db: Db, afterId: string | null, limit: number): Promise<string[]> {
  const filter: Document = afterId === null ? {} : { _id: { $gt: afterId } };
  const docs = await db.collection(ACCOUNTS_COLLECTION).find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
  return docs.map((doc) => String(doc._id));
}
