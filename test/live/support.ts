/** Fixtures for the live-audience suites: people, accounts and segments through the API; log events written directly. */
import { expect } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { createDatabases } from '../../lib/mongo/databases.js';
import { MEMBERSHIP_EVENTS_COLLECTION } from '../../subgraphs/segment/memberships.layout.js';
import { EventLogLock } from '../../subgraphs/segment/memberships/eventLogLock.repository.js';
import {
  MembershipEventsRepository,
  type MembershipEventStatus,
  type NewMembershipEvent,
} from '../../subgraphs/segment/memberships/membershipEvents.repository.js';
import type { TestPlatform } from '../support/platform.js';

export const MEMBER_FIELDS = /* GraphQL */ `
  cursor status occurredAt memberId segment { id name }
  profile { id workEmail jobTitle account { name industry } }
  account { id name }
`;

export const MEMBERSHIP_CHANGED = /* GraphQL */ `
  subscription ($segmentId: ID!, $after: String) {
    segmentMembershipChanged(segmentId: $segmentId, after: $after) { ${MEMBER_FIELDS} }
  }
`;

export interface MemberEvent {
  cursor: string;
  status: 'REALIZED' | 'EXITED';
  occurredAt: string;
  memberId: string;
  segment: { id: string; name: string };
  profile: { id: string; workEmail: string | null; jobTitle: string | null; account: { name: string; industry: string | null } | null } | null;
  account: { id: string; name: string } | null;
}

export interface MembershipChanged {
  segmentMembershipChanged: MemberEvent;
}

export async function createPersonWithAccount(
  platform: TestPlatform,
  sandbox: string,
  person: { firstName: string; workEmail: string; jobTitle?: string },
  account: { name: string; domain: string; industry?: string },
): Promise<{ personId: string; accountId: string }> {
  const people = await platform.query('mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { profile { id } error { message } } }', { p: [person] }, { sandbox });
  expect(people.errors).toBeUndefined();
  const accounts = await platform.query('mutation ($a: [AccountInput!]!) { upsertAccounts(accounts: $a) { account { id } error { message } } }', { a: [account] }, { sandbox });
  expect(accounts.errors).toBeUndefined();
  const personId = people.data.upsertPeople[0].profile.id as string;
  const accountId = accounts.data.upsertAccounts[0].account.id as string;
  const linked = await platform.query(
    'mutation ($l: [AccountPersonLinkInput!]!) { linkPeopleToAccounts(links: $l) { error { message } } }',
    { l: [{ personId, accountId, isPrimary: true }] },
    { sandbox },
  );
  expect(linked.errors).toBeUndefined();
  return { personId, accountId };
}

export async function createSegment(platform: TestPlatform, sandbox: string, name: string, expression = 'jobTitle.contains("vp", false)'): Promise<string> {
  const result = await platform.query(
    'mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id } }',
    { input: { name, expression, targetEntity: 'PERSON' } },
    { sandbox },
  );
  expect(result.errors).toBeUndefined();
  return result.data.createSegment.id as string;
}

/** The membership event log of one sandbox, written as the evaluators write it. */
export class EventLog {
  readonly repository: MembershipEventsRepository;
  readonly db: Db;
  private run = 0;

  constructor(client: MongoClient, platform: TestPlatform, sandbox: string) {
    this.db = createDatabases(client, platform.databasePrefix).sandbox(sandbox);
    this.repository = new MembershipEventsRepository(this.db);
  }

  /** An event of its own evaluation run, so the same member may enter and exit again. */
  event(segmentId: string, memberId: string, status: MembershipEventStatus = 'realized'): NewMembershipEvent {
    this.run++;
    return { segmentId, memberId, memberType: 'PERSON', status, occurredAt: new Date(), cause: { kind: 'batch', runId: `run-${this.run}` } };
  }

  async append(...events: NewMembershipEvent[]): Promise<void> {
    await this.repository.append(events);
  }

  /**
   * Two writers that took positions in order and commit in reverse, which the log's lock
   * rules out: so one holder of the lock inserts the later position first. Answers the two
   * positions, lower first.
   */
  async appendOutOfOrder(first: NewMembershipEvent, second: NewMembershipEvent): Promise<[number, number]> {
    const lock = new EventLogLock(this.db);
    const holder = 'out-of-order-writer';
    const { last } = await lock.acquire(holder, () => new Date());
    const [a, b] = [last + 1, last + 2];
    const events = this.db.collection<{ _id: string }>(MEMBERSHIP_EVENTS_COLLECTION);
    const doc = (event: NewMembershipEvent, position: number) => ({ _id: `test:${position}:${event.memberId}`, position, ...event });
    await events.insertOne(doc(second, b));
    await events.insertOne(doc(first, a));
    await lock.release(holder, b);
    return [a, b];
  }

  /** Removes events up to `position`, as retention would. */
  async trimThrough(position: number): Promise<void> {
    await this.db.collection(MEMBERSHIP_EVENTS_COLLECTION).deleteMany({ position: { $lte: position } });
  }
}
