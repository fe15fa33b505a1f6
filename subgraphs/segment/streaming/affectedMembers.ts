/**
 * From a batch of changes to the members they affect, with a bounded number of queries for
 * the whole batch (one per kind of hop, through the profile and account change views):
 *   event -> the person holding its identity key (and, for one sent again under another key,
 *   the person holding the key it left), for the person segments a new event can change
 *   (eventRelevance.ts; none: not evaluated for it); profile change -> that person (a deleted,
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
import { eventChange, findLinkKeysOfPeople, findPeopleByIdentityKeys, findPeopleByLinkKeys, profileChangeFacts } from '../../profile/profileChanges.view.js';
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

/** Affected members by target and id, each with the first change that reached it and the segments reached (null: all). */
class Affected {
  private readonly members = new Map<string, AffectedMember>();

  add(target: TargetEntity, id: string, cause: StreamCause, segmentIds: readonly string[] | null = null): void {
    const key = `${target}:${id}`;
    const seen = this.members.get(key);
    if (!seen) this.members.set(key, { id, target, cause, segmentIds });
    else if (seen.segmentIds !== null) {
      this.members.set(key, { ...seen, segmentIds: segmentIds === null ? null : [...new Set([...seen.segmentIds, ...segmentIds])] });
    }
  }

  list(): AffectedMember[] {
    return [...this.members.values()];
  }
}

/** What a person's identity keys reach together (null: every segment). */
function reachedByKeys(reaches: ReadonlyMap<string, Set<string> | null>, identityKeys: readonly string[]): string[] | null {
  const ids = new Set<string>();
  for (const key of identityKeys) {
    const reached = reaches.get(key);
    if (reached === null) return null;
    if (reached) for (const id of reached) ids.add(id);
  }
  return [...ids];
}

/** A lookup key (identity key, link key, account id...) and the change that led to it. */
type Trail = Map<string, StreamCause>;

function follow(trail: Trail, key: string, cause: StreamCause): void {
  if (!trail.has(key)) trail.set(key, cause);
}

/** The person segments a change to `events` can reach: those its new event can (eventRelevance.ts), or all of them for a rewrite. */
function segmentsReachedByEvent(catalog: SegmentCatalog, change: FeedChange, now: Date): readonly string[] | null {
  const effect = eventChange(change);
  return effect?.kind === 'inserted' ? catalog.personSegmentsReachedBy({ ...effect.event.fields, id: effect.event.id }, now) : null;
}

/** Adds the segments in `reached` to what a key reaches (null: every segment). */
function reach(reaches: Map<string, Set<string> | null>, key: string, reached: readonly string[] | null): void {
  const known = reaches.get(key);
  if (known === null) return;
  if (reached === null) reaches.set(key, null);
  else if (known) for (const id of reached) known.add(id);
  else reaches.set(key, new Set(reached));
}

export async function affectedMembers(db: Db, catalog: SegmentCatalog, changes: readonly FeedChange[], now: Date): Promise<AffectedMember[]> {
  const affected = new Affected();
  const byIdentityKey: Trail = new Map();
  /** The person segments the batch's events reach, by the identity key they arrived with. */
  const eventReach = new Map<string, Set<string> | null>();
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
      if (profile.identityKeys.length > 0) {
        const reached = segmentsReachedByEvent(catalog, change, now);
        for (const key of profile.identityKeys) {
          follow(byIdentityKey, key, cause);
          reach(eventReach, key, reached);
        }
      }
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
    // Keys whose events reach no person segment are followed only to the accounts.
    findPeopleByIdentityKeys(db, [...byIdentityKey.keys()].filter((key) => reachAccounts || eventReach.get(key)?.size !== 0)),
    findPersonKeysOfAccounts(db, [...peopleOfAccounts.keys()]),
    findPersonKeysOfOpportunities(db, [...contactsOfOpportunities.keys()]),
    reachAccounts ? findLinkKeysOfPeople(db, [...accountsOfPeople.keys()]) : Promise.resolve([]),
  ]);
  const firstCause = (trail: Trail): StreamCause => trail.values().next().value as StreamCause;
  for (const person of eventPeople) {
    // Its cause: the first of the batch's events that arrived with one of its identity keys.
    const key = person.identityKeys.find((identityKey) => byIdentityKey.has(identityKey));
    const cause = key ? byIdentityKey.get(key)! : firstCause(byIdentityKey);
    const reached = reachedByKeys(eventReach, person.identityKeys);
    if (reached === null || reached.length > 0) affected.add('PERSON', person.id, cause, reached);
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
