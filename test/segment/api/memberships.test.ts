/**
 * Reading memberships through the segment subgraph: a segment's members page by
 * page and by status, its size and last evaluation, a member's history, and the
 * memberships the subgraph adds to profiles and accounts (one query per batch).
 */
import type { CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql } from '../../subgraphs/support/graphql.js';
import type { SubgraphSuite } from '../../subgraphs/support/subgraphSuite.js';
import { startSegmentSuite, storeMemberships, storeSegment } from './support.js';

// Recent, so exited memberships are well within their retention while the tests read them.
const DAY = 86_400_000;
const second = new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
const first = new Date(second.getTime() - DAY);

describe('segment memberships through the segment subgraph', () => {
  let suite: SubgraphSuite;
  beforeAll(async () => {
    suite = await startSegmentSuite();
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('pages through members by status, with sizes, the last evaluation and each member as a profile reference', async () => {
    const sandbox = 'members';
    const db = suite.databases.sandbox(sandbox);
    const segment = await storeSegment(db);
    await storeMemberships(db, segment, { stayed: ['prof_b', 'prof_d'], exited: ['prof_c'], entered: ['prof_a', 'prof_e'] }, { first, second });

    const query = `query ($id: ID!, $after: String, $status: [MembershipStatus!]) { segment(id: $id) {
      size
      lastEvaluation { startedAt finishedAt realized existing exited }
      members(first: 2, after: $after, status: $status) {
        nodes { memberId status lastQualificationTime profile { id } account { id } }
        pageInfo { hasNextPage endCursor }
        totalCount
      }
    } }`;
    const page1 = (await gql(suite.url, query, { id: segment.id }, { sandbox, role: 'viewer' })).segment;
    expect(page1.size).toBe(4);
    expect(page1.lastEvaluation).toEqual({
      startedAt: second.toISOString(),
      finishedAt: new Date(second.getTime() + 1_000).toISOString(),
      realized: 2,
      existing: 2,
      exited: 1,
    });
    expect(page1.members.nodes).toEqual([
      { memberId: 'prof_a', status: 'REALIZED', lastQualificationTime: second.toISOString(), profile: { id: 'prof_a' }, account: null },
      { memberId: 'prof_b', status: 'EXISTING', lastQualificationTime: second.toISOString(), profile: { id: 'prof_b' }, account: null },
    ]);
    expect(page1.members.pageInfo).toEqual({ hasNextPage: true, endCursor: 'prof_b' });
    expect(page1.members.totalCount).toBe(4);

    const page2 = (await gql(suite.url, query, { id: segment.id, after: 'prof_b' }, { sandbox })).segment.members;
    expect(page2.nodes.map((node: { memberId: string }) => node.memberId)).toEqual(['prof_d', 'prof_e']);
    expect(page2.pageInfo).toEqual({ hasNextPage: false, endCursor: 'prof_e' });

    const exited = (await gql(suite.url, query, { id: segment.id, status: ['EXITED'] }, { sandbox })).segment.members;
    expect(exited.nodes).toEqual([
      { memberId: 'prof_c', status: 'EXITED', lastQualificationTime: first.toISOString(), profile: { id: 'prof_c' }, account: null },
    ]);
    expect(exited.totalCount).toBe(1);
  });

  it("answers a member's history in a segment, oldest first, with its cause", async () => {
    const sandbox = 'history';
    const db = suite.databases.sandbox(sandbox);
    const segment = await storeSegment(db);
    await storeMemberships(db, segment, { exited: ['prof_x'] }, { first, second });
    const { segment: read } = await gql(
      suite.url,
      `query ($id: ID!) { segment(id: $id) {
        x: membershipHistory(memberId: "prof_x") { status occurredAt cause { kind runId } }
        nobody: membershipHistory(memberId: "prof_nobody") { status }
      } }`,
      { id: segment.id },
      { sandbox, role: 'viewer' },
    );
    expect(read.x).toEqual([
      { status: 'REALIZED', occurredAt: first.toISOString(), cause: { kind: 'batch', runId: 'run_1' } },
      { status: 'EXITED', occurredAt: second.toISOString(), cause: { kind: 'batch', runId: 'run_2' } },
    ]);
    expect(read.nobody).toEqual([]);
  });

  it("adds profiles' and accounts' memberships, current ones unless asked, with one memberships query per batch", async () => {
    const sandbox = 'entities';
    const db = suite.databases.sandbox(sandbox);
    const people = await storeSegment(db, { name: 'People' });
    const others = await storeSegment(db, { name: 'Others' });
    const accounts = await storeSegment(db, { name: 'Accounts', targetEntity: 'ACCOUNT' });
    await storeMemberships(db, people, { stayed: ['prof_1'], exited: ['prof_2'] }, { first, second });
    await storeMemberships(db, others, { entered: ['prof_1', 'prof_2'] }, { first, second });
    await storeMemberships(db, accounts, { stayed: ['acc_1'] }, { first, second });

    const commands: CommandStartedEvent[] = [];
    const onCommand = (event: CommandStartedEvent) => {
      if (event.commandName === 'find' && event.command.find === 'segmentMemberships') commands.push(event);
    };
    suite.client.on('commandStarted', onCommand);
    try {
      const { _entities } = await gql(
        suite.url,
        `query ($representations: [_Any!]!) { _entities(representations: $representations) {
          ... on Profile { id segmentMemberships { segment { name } status lastQualificationTime } all: segmentMemberships(status: [REALIZED, EXISTING, EXITED]) { segment { name } status } }
          ... on Account { id audienceMemberships { segment { name targetEntity } status } }
        } }`,
        {
          representations: [
            { __typename: 'Profile', id: 'prof_1' },
            { __typename: 'Profile', id: 'prof_2' },
            { __typename: 'Profile', id: 'prof_none' },
            { __typename: 'Account', id: 'acc_1' },
          ],
        },
        { sandbox, role: 'viewer' },
      );
      expect(_entities).toEqual([
        {
          id: 'prof_1',
          segmentMemberships: [
            { segment: { name: 'People' }, status: 'EXISTING', lastQualificationTime: second.toISOString() },
            { segment: { name: 'Others' }, status: 'REALIZED', lastQualificationTime: second.toISOString() },
          ],
          all: [
            { segment: { name: 'People' }, status: 'EXISTING' },
            { segment: { name: 'Others' }, status: 'REALIZED' },
          ],
        },
        {
          id: 'prof_2',
          segmentMemberships: [{ segment: { name: 'Others' }, status: 'REALIZED', lastQualificationTime: second.toISOString() }],
          all: [
            { segment: { name: 'People' }, status: 'EXITED' },
            { segment: { name: 'Others' }, status: 'REALIZED' },
          ],
        },
        { id: 'prof_none', segmentMemberships: [], all: [] },
        { id: 'acc_1', audienceMemberships: [{ segment: { name: 'Accounts', targetEntity: 'ACCOUNT' }, status: 'EXISTING' }] },
      ]);
      // One query for the current memberships of all four members, one for every status.
      expect(commands).toHaveLength(2);
    } finally {
      suite.client.off('commandStarted', onCommand);
    }
  });

  it('reads segments in other sandboxes as absent', async () => {
    const segment = await storeSegment(suite.databases.sandbox('mine'));
    const { segment: read } = await gql(suite.url, `query ($id: ID!) { segment(id: $id) { id } }`, { id: segment.id }, { sandbox: 'theirs' });
    expect(read).toBeNull();
  });
});
