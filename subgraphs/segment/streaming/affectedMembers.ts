/**
 * From a batch of changes to the members they affect, with a bounded number of queries for
 * the whole batch (one per kind of hop, through the profile and account change views):
 *   event -> the person holding its identity key; profile change -> that person (a deleted,
 *   merged-away profile too: it then exits everything); account -> the account and its people;
 *   opportunity -> its account and its contacts; link -> both ends; membership of segment S ->
 *   the same member again when a segment uses S (or when a batch run wrote it, so streaming
 *   also learns its windows); and a person's changes reach its accounts when account
 *   segments exist (they read `people`).
 * Segment definition changes are returned apart: they reload the catalog and start a pass.
 */
import type { Db } from 'mongodb';
import {
  accountChangeFacts,
  findAccountIdsOfPersonKeys,
  findPersonKeysOfAccounts,
  findPersonKeysOfOpportunities,
} from '../../account/accountChanges.view.js';
import { findLinkKeysOfPeople, findPeopleByIdentityKeys, findPeopleByLinkKeys, profileChangeFacts } from '../../profile/profileChanges.view.js';
import type { TargetEntity } from '../language/index.js';
import { MEMBERSHIPS_COLLECTION, type MemberType } from '../memberships.layout.js';
import { SEGMENTS_COLLECTION, type FeedChange } from './changeFeed.repository.js';
import { STREAM_RUN_PREFIX, type AffectedMember, type StreamCause } from './layout.js';
import type { SegmentCatalog } from './segmentCatalog.js';

export interface SegmentDefinitionChange {
  segmentId: string;
  /** A new or changed definition: its members are re-evaluated in a pass. */
  kind: 'changed' | 'deleted';
  target: TargetEntity | null;
}

/** Only these fields change which members a segment has. */
const DEFINING_FIELDS = ['expression', 'targetEntity', 'dependsOn'];

export function segmentDefinitionChanges(changes: readonly FeedChange[]): SegmentDefinitionChange[] {
  const found: SegmentDefinitionChange[] = [];
  for (const change of changes) {
    if (change.ns?.coll !== SEGMENTS_COLLECTION || change.documentKey?._id === undefined) continue;
    const segmentId = String(change.documentKey._id);
    const target = (change.fullDocument?.targetEntity as TargetEntity | undefined) ?? null;
    if (change.operationType === 'delete') found.push({ segmentId, kind: 'deleted', target: null });
    else if (change.operationType === 'update') {
      const fields = Object.keys(change.updateDescription?.updatedFields ?? {});
      if (fields.some((field) => DEFINING_FIELDS.includes(field))) found.push({ segmentId, kind: 'changed', target });
    } else if (change.operationType === 'insert' || change.operationType === 'replace') found.push({ segmentId, kind: 'changed', target });
  }
  return found;
}

function causeOf(change: FeedChange): StreamCause {
  const id = change.documentKey?._id;
  return { kind: 'change', collection: change.ns?.coll ?? 'unknown', operation: change.operationType, documentId: id === undefined ? null : String(id) };
}

/** Affected members by target and id, each with the first change that reached it. */
class Affected {
  private readonly members = new Map<string, AffectedMember>();

  add(target: TargetEntity, id: string, cause: StreamCause): void {
    const key = `${target}:${id}`;
    if (!this.members.has(key)) this.members.set(key, { id, target, cause, segmentIds: null });
  }

  list(): AffectedMember[] {
    return [...this.members.values()];
  }
}

/** A lookup key (identity key, link key, account id...) and the change that led to it. */
type Trail = Map<string, StreamCause>;

function follow(trail: Trail, key: string, cause: StreamCause): void {
  if (!trail.has(key)) trail.set(key, cause);
}

export async function affectedMembers(db: Db, catalog: SegmentCatalog, changes: readonly FeedChange[]): Promise<AffectedMember[]> {
  const affected = new Affected();
  const byIdentityKey: Trail = new Map();
  const peopleOfAccounts: Trail = new Map();
  const contactsOfOpportunities: Trail = new Map();
  const byPersonKey: Trail = new Map();
  /** Link keys whose accounts are affected (the person changed). */
  const accountsOfLinkKeys: Trail = new Map();
  /** People whose accounts are affected, by id (their link keys are looked up). */
  const accountsOfPeople: Trail = new Map();
  const reachAccounts = catalog.hasAccountSegments;

  for (const change of changes) {
    const cause = causeOf(change);
    const profile = profileChangeFacts(change);
    if (profile) {
      for (const id of profile.personIds) affected.add('PERSON', id, cause);
      for (const key of profile.identityKeys) follow(byIdentityKey, key, cause);
      if (reachAccounts) for (const key of profile.linkKeys) follow(accountsOfLinkKeys, key, cause);
      continue;
    }
    const account = accountChangeFacts(change);
    if (account) {
      for (const id of account.accountIds) affected.add('ACCOUNT', id, cause);
      for (const id of account.accountsOfPeople) follow(peopleOfAccounts, id, cause);
      for (const id of account.opportunityIds) follow(contactsOfOpportunities, id, cause);
      for (const key of account.personKeys) follow(byPersonKey, key, cause);
      continue;
    }
    if (change.ns?.coll === MEMBERSHIPS_COLLECTION) {
      const membership = change.fullDocument;
      if (!membership || change.operationType === 'delete' || membership.status === 'existing') continue;
      const segmentId = String(membership.segmentId);
      const writtenByStreaming = typeof membership.runId === 'string' && membership.runId.startsWith(STREAM_RUN_PREFIX);
      // Streaming already evaluated this member for every segment; only users of S may need another look.
      if (writtenByStreaming && !catalog.isUsed(segmentId)) continue;
      const memberId = String(membership.memberId);
      affected.add(membership.memberType as MemberType, memberId, cause);
      if (reachAccounts && membership.memberType === 'PERSON') follow(accountsOfPeople, memberId, cause);
    }
  }

  // Hops, one query each for the whole batch.
  const [eventPeople, accountKeys, contactKeys, peopleKeys] = await Promise.all([
    findPeopleByIdentityKeys(db, [...byIdentityKey.keys()]),
    findPersonKeysOfAccounts(db, [...peopleOfAccounts.keys()]),
    findPersonKeysOfOpportunities(db, [...contactsOfOpportunities.keys()]),
    reachAccounts ? findLinkKeysOfPeople(db, [...accountsOfPeople.keys()]) : Promise.resolve([]),
  ]);
  const firstCause = (trail: Trail): StreamCause => trail.values().next().value as StreamCause;
  for (const person of eventPeople) {
    // Its cause: the first of the batch's events that arrived with one of its identity keys.
    const key = person.identityKeys.find((identityKey) => byIdentityKey.has(identityKey));
    const cause = key ? byIdentityKey.get(key)! : firstCause(byIdentityKey);
    affected.add('PERSON', person.id, cause);
    if (reachAccounts) for (const linkKey of person.linkKeys) follow(accountsOfLinkKeys, linkKey, cause);
  }
  for (const person of peopleKeys) {
    const cause = accountsOfPeople.get(person.id)!;
    for (const key of person.linkKeys) follow(accountsOfLinkKeys, key, cause);
  }
  // Person keys from account and opportunity changes: a key reached by an account change keeps that cause.
  for (const key of accountKeys) follow(byPersonKey, key, firstCause(peopleOfAccounts));
  for (const key of contactKeys) follow(byPersonKey, key, firstCause(contactsOfOpportunities));

  const [linkedPeople, personAccounts] = await Promise.all([
    findPeopleByLinkKeys(db, [...byPersonKey.keys()]),
    reachAccounts ? findAccountIdsOfPersonKeys(db, [...accountsOfLinkKeys.keys()]) : Promise.resolve([]),
  ]);
  for (const person of linkedPeople) {
    const key = person.linkKeys.find((linkKey) => byPersonKey.has(linkKey));
    affected.add('PERSON', person.id, key ? byPersonKey.get(key)! : firstCause(byPersonKey));
  }
  for (const accountId of personAccounts) affected.add('ACCOUNT', accountId, firstCause(accountsOfLinkKeys));
  return affected.list();
}
