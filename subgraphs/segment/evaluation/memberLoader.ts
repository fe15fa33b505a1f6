/**
 * CONTRACT: member documents built in memory for the compiled predicate (batch scans, streaming),
 * preview samples and explain, with a bounded number of queries for any number of ids: one `$in`
 * find per collection on an indexed key, joined here by key (no `$lookup`, which costs a join per
 * document on some servers). Callers pass pages of ids (a `$in` list, not the collection).
 *
 * Queries, reading everything (ALL_MEMBER_NEEDS): a person batch costs 7 (people, their events,
 * account links, accounts, opportunity contacts, opportunities, memberships); an account batch
 * costs 7 (accounts, opportunities, person links, memberships, the linked people, their events,
 * their memberships); the events query is left out for keys whose events the caller already
 * holds (`MemberSources`). A batch scan passes what its segments read (`memberNeeds`), and what they
 * do not read is neither queried nor built: those relations are empty, those fields absent.
 *
 * Bound: each person carries its newest MAX_EVENTS_PER_PERSON events (profile.view.ts), or those
 * since the earliest time the segments' event conditions can match; the batch pipeline counts
 * all of them, so the two differ only for a person with more events.
 *
 * Relation elements are built as the pipeline builds them: one per account, opportunity or
 * person, the preferred link speaking for it (`comparePreferredLinks`), the link's fields over
 * the related record's; links to records that are gone are left out.
 */
import type { Db } from 'mongodb';
import {
  comparePreferredLinks,
  findAccounts,
  findLinksOfPeople,
  findOpportunitiesOfAccounts,
  findPeopleLinksOfAccounts,
  type LinkView,
  type RecordView,
} from '../../account/account.view.js';
import {
  findPeople,
  findPeopleByLinkKeys,
  findPeopleByLinkKeysWithEvents,
  findPeopleWithEvents,
  type EventFinder,
  type PersonView,
  type PersonWithEvents,
} from '../../profile/profile.view.js';
import type {
  AccountFields,
  AccountMember,
  AccountPersonElement,
  EventFields,
  Member,
  OpportunityFields,
  PersonFields,
  PersonMember,
  TargetEntity,
} from '../language/index.js';
import { CURRENT_STATUSES, type MemberType } from '../memberships.layout.js';
import { MembershipsRepository } from '../memberships/memberships.repository.js';
import { ALL_MEMBER_NEEDS, type AccountNeeds, type MemberNeeds, type PersonNeeds } from './memberNeeds.js';

/** Where a loader reads what it does not query itself. */
export interface MemberSources {
  /** The events of identity keys (default: one query per batch). */
  findEvents?: EventFinder;
}

/** Members in the order of `ids`; null for an id that is not a member of that target. */
export async function loadMembers(
  db: Db,
  target: TargetEntity,
  ids: readonly string[],
  needs: MemberNeeds = ALL_MEMBER_NEEDS,
  sources: MemberSources = {},
): Promise<Array<Member | null>> {
  const unique = [...new Set(ids)];
  const byId: Map<string, Member> = target === 'PERSON' ? await loadPeople(db, unique, needs.person, sources) : await loadAccounts(db, unique, needs.account, sources);
  return ids.map((id) => byId.get(id) ?? null);
}

const NONE = Promise.resolve([]);

/** Ids of the segments each member is in now (memberships of that member type only); none asked when not `wanted`. */
async function currentSegments(db: Db, memberType: MemberType, memberIds: readonly string[], wanted: boolean): Promise<Map<string, string[]>> {
  if (!wanted) return new Map();
  const lists = await new MembershipsRepository(db).listForMembers(memberIds, CURRENT_STATUSES);
  return new Map(memberIds.map((id, i) => [id, lists[i]!.filter((m) => m.memberType === memberType).map((m) => m.segmentId)]));
}

function recordFields<T extends { id: string }>(record: RecordView): T {
  return { ...record.fields, id: record.id } as T;
}

function eventsOf(person: PersonView | PersonWithEvents): EventFields[] {
  return 'events' in person ? person.events.map((event) => ({ ...event.fields, id: event.id }) as EventFields) : [];
}

/** People by id or by link key, with their events when the segments read events. */
function readPeople(db: Db, by: 'id' | 'linkKey', keys: readonly string[], needs: PersonNeeds, sources: MemberSources): Promise<Array<PersonView | PersonWithEvents>> {
  const options = { fields: needs.fields, eventsSince: needs.events?.since ?? null, findEvents: sources.findEvents };
  if (needs.events) return by === 'id' ? findPeopleWithEvents(db, keys, options) : findPeopleByLinkKeysWithEvents(db, keys, options);
  return by === 'id' ? findPeople(db, keys, options) : findPeopleByLinkKeys(db, keys, options);
}

/** The preferred link of each group (by `keyOf`), in first-seen order. */
function preferred<L extends LinkView>(links: readonly L[], keyOf: (link: L) => string): L[] {
  const best = new Map<string, L>();
  for (const link of links) {
    const key = keyOf(link);
    const current = best.get(key);
    if (!current || comparePreferredLinks(link, current) < 0) best.set(key, link);
  }
  return [...best.values()];
}

function groupBy<T>(items: readonly T[], keysOf: (item: T) => readonly string[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    for (const key of keysOf(item)) {
      const list = map.get(key);
      if (list) list.push(item);
      else map.set(key, [item]);
    }
  }
  return map;
}

function linksOf<L extends LinkView>(index: Map<string, L[]>, linkKeys: readonly string[]): L[] {
  return linkKeys.flatMap((key) => index.get(key) ?? []);
}

async function loadPeople(db: Db, ids: readonly string[], needs: PersonNeeds, sources: MemberSources): Promise<Map<string, PersonMember>> {
  const people = await readPeople(db, 'id', ids, needs, sources);
  const keys = [...new Set(people.flatMap((person) => person.linkKeys))];
  const [accountLinks, opportunityLinks, segments] = await Promise.all([
    needs.accounts ? findLinksOfPeople(db, 'accounts', keys) : NONE,
    needs.opportunities ? findLinksOfPeople(db, 'opportunities', keys) : NONE,
    currentSegments(db, 'PERSON', people.map((person) => person.id), needs.segments),
  ]);
  const accountIndex = groupBy(accountLinks.filter((link) => link.target !== null), (link) => [link.personKey]);
  const opportunityIndex = groupBy(opportunityLinks.filter((link) => link.target !== null), (link) => [link.personKey]);
  const members = new Map<string, PersonMember>();
  for (const person of people) {
    const ownAccountLinks = linksOf(accountIndex, person.linkKeys);
    const primary = ownAccountLinks.filter((link) => link.isPrimary).sort(comparePreferredLinks)[0];
    members.set(person.id, {
      ...(person.fields as Omit<PersonFields, 'id'>),
      id: person.id,
      events: eventsOf(person),
      accounts: preferred(ownAccountLinks, (link) => link.targetId).map((link) => ({
        ...recordFields<AccountFields>(link.target!),
        isPrimary: link.isPrimary,
        jobRole: link.role as string | null,
      })),
      opportunities: preferred(linksOf(opportunityIndex, person.linkKeys), (link) => link.targetId).map((link) => ({
        ...recordFields<OpportunityFields>(link.target!),
        isPrimary: link.isPrimary,
        role: link.role as string | null,
      })),
      account: primary ? recordFields<AccountFields>(primary.target!) : null,
      segments: segments.get(person.id) ?? [],
    });
  }
  return members;
}

async function loadAccounts(db: Db, ids: readonly string[], needs: AccountNeeds, sources: MemberSources): Promise<Map<string, AccountMember>> {
  const accounts = await findAccounts(db, ids);
  const accountIds = accounts.map((account) => account.id);
  const [opportunities, links, segments] = await Promise.all([
    needs.opportunities ? findOpportunitiesOfAccounts(db, accountIds) : NONE,
    needs.people ? findPeopleLinksOfAccounts(db, accountIds) : NONE,
    currentSegments(db, 'ACCOUNT', accountIds, needs.segments),
  ]);
  const people = needs.people ? await readPeople(db, 'linkKey', [...new Set(links.map((link) => link.personKey))], needs.people, sources) : [];
  const personSegments = await currentSegments(db, 'PERSON', people.map((person) => person.id), needs.people?.segments ?? false);
  const peopleByKey = groupBy(people, (person) => person.linkKeys);
  const linksByAccount = groupBy(links, (link) => [link.targetId]);
  const opportunitiesByAccount = groupBy(opportunities, (opportunity) => [String(opportunity.fields.accountId)]);
  const elementsOf = (accountId: string): AccountPersonElement[] => {
    const pairs = (linksByAccount.get(accountId) ?? [])
      .flatMap((link) => (peopleByKey.get(link.personKey) ?? []).map((person) => ({ ...link, person })));
    return preferred(pairs, (pair) => pair.person.id).map(({ person, isPrimary, role }) => ({
      ...(person.fields as Omit<PersonFields, 'id'>),
      id: person.id,
      isPrimary,
      jobRole: role as string | null,
      events: eventsOf(person),
      segments: personSegments.get(person.id) ?? [],
    }));
  };
  const members = new Map<string, AccountMember>();
  for (const account of accounts) {
    members.set(account.id, {
      ...recordFields<AccountFields>(account),
      people: elementsOf(account.id),
      opportunities: (opportunitiesByAccount.get(account.id) ?? []).map((opportunity) => recordFields<OpportunityFields>(opportunity)),
      segments: segments.get(account.id) ?? [],
    });
  }
  return members;
}

