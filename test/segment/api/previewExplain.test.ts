/**
 * Preview and explain through the segment subgraph, over people written straight
 * into the sandbox database: sizes, samples and an edit's entering and exiting
 * counts with nothing written, checks before anything runs, and explanation trees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, postGraphQL } from '../../subgraphs/support/graphql.js';
import type { SubgraphSuite } from '../../subgraphs/support/subgraphSuite.js';
import { snapshotOf } from '../../support/databaseSnapshot.js';
import { startSegmentSuite, storeMemberships } from './support.js';

const PREVIEW = `query ($input: PreviewSegmentInput!) { previewSegment(input: $input) {
  size entering exiting evaluatedAt sample { memberId profile { id } account { id } }
} }`;
const EXPLAIN = `query ($segmentId: ID!, $memberId: ID!) { explainMembership(segmentId: $segmentId, memberId: $memberId) {
  memberId qualifies status evaluatedAt segment { name }
  tree { condition value evidence children { condition value evidence children { condition } } }
} }`;
const now = new Date('2026-06-15T12:00:00.000Z');
const runs = { first: new Date(Date.now() - 2 * 86_400_000), second: new Date(Date.now() - 86_400_000) };

function person(id: string, fields: Record<string, unknown>) {
  return { _id: id, identityKeys: [`email:${id}@example.com`], sourceKeys: [], linkKeys: [`id:${id}`], createdAt: now, updatedAt: now, version: 1, ...fields };
}


describe('preview and explain', () => {
  let suite: SubgraphSuite;
  const sandbox = 'audiences';
  let us: { id: string };

  beforeAll(async () => {
    suite = await startSegmentSuite({ now: () => now });
    const db = suite.databases.sandbox(sandbox);
    await db.collection('people').insertMany([
      person('prof_a', { jobTitle: 'VP Sales', country: 'US', leadScore: 55 }),
      person('prof_b', { jobTitle: 'vp of marketing', country: 'CA' }),
      person('prof_c', { jobTitle: 'Engineer', country: 'DE' }),
      person('prof_d', { jobTitle: 'SVP Finance', country: 'US' }),
    ] as never[]);
    ({ createSegment: us } = await gql(
      suite.url,
      `mutation { createSegment(input: { name: "US", targetEntity: PERSON, expression: "country = \\"US\\" and leadScore >= 40" }) { id } }`,
      {},
      { sandbox, role: 'editor' },
    ));
    // As the latest evaluation left them: prof_a and prof_c in (prof_c has since moved), prof_b long gone.
    await storeMemberships(db, { id: us.id, targetEntity: 'PERSON' }, { stayed: ['prof_a', 'prof_c'], exited: ['prof_b'] }, runs);
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('previews a new expression: its size and a sample in member id order', async () => {
    const { previewSegment } = await gql(suite.url, PREVIEW, { input: { targetEntity: 'PERSON', expression: 'jobTitle.contains("vp", false)' } }, { sandbox, role: 'editor' });
    expect(previewSegment).toEqual({
      size: 3,
      entering: null,
      exiting: null,
      evaluatedAt: now.toISOString(),
      sample: ['prof_a', 'prof_b', 'prof_d'].map((id) => ({ memberId: id, profile: { id }, account: null })),
    });
  });

  it("previews an edit: how many would enter and exit against the segment's current members, writing nothing", async () => {
    const before = await snapshotOf(suite.databases.sandbox(sandbox));
    const { previewSegment } = await gql(suite.url, PREVIEW, { input: { segmentId: us.id, expression: 'jobTitle.contains("vp", false)' } }, { sandbox, role: 'editor' });
    // Qualifying: a (a member), b (exited: enters again), d (new). Current: a, c; c would leave.
    expect(previewSegment).toMatchObject({ size: 3, entering: 2, exiting: 1 });
    const none = (await gql(suite.url, PREVIEW, { input: { segmentId: us.id, expression: 'false' } }, { sandbox, role: 'editor' })).previewSegment;
    expect(none).toMatchObject({ size: 0, entering: 0, exiting: 2, sample: [] });
    expect(await snapshotOf(suite.databases.sandbox(sandbox))).toEqual(before);
  });

  it('checks a preview before running it', async () => {
    const syntax = await postGraphQL(suite.url, PREVIEW, { input: { targetEntity: 'PERSON', expression: 'country = ' } }, { sandbox, role: 'editor' });
    expect(syntax.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 1 });
    const noTarget = await postGraphQL(suite.url, PREVIEW, { input: { expression: 'true' } }, { sandbox, role: 'editor' });
    expect(noTarget.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(noTarget.errors?.[0]?.message).toMatch(/targetEntity/);
    const unknown = await postGraphQL(suite.url, PREVIEW, { input: { segmentId: 'seg_nowhere', expression: 'true' } }, { sandbox, role: 'editor' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const cycle = await postGraphQL(suite.url, PREVIEW, { input: { segmentId: us.id, expression: `inSegment("${us.id}")` } }, { sandbox, role: 'editor' });
    expect(cycle.errors?.[0]?.message).toMatch(/cycle/);
    const viewer = await postGraphQL(suite.url, PREVIEW, { input: { targetEntity: 'PERSON', expression: 'true' } }, { sandbox, role: 'viewer' });
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('explains a decision node by node, with the values read, at the request time', async () => {
    const inside = (await gql(suite.url, EXPLAIN, { segmentId: us.id, memberId: 'prof_a' }, { sandbox, role: 'viewer' })).explainMembership;
    expect(inside).toMatchObject({ memberId: 'prof_a', qualifies: true, status: 'EXISTING', evaluatedAt: now.toISOString(), segment: { name: 'US' } });
    expect(inside.tree).toMatchObject({
      value: true,
      children: [
        { condition: 'country = "US"', value: true, evidence: { actual: 'US' }, children: [] },
        { condition: 'leadScore >= 40', value: true, evidence: { actual: 55 }, children: [] },
      ],
    });

    const moved = (await gql(suite.url, EXPLAIN, { segmentId: us.id, memberId: 'prof_c' }, { sandbox, role: 'viewer' })).explainMembership;
    expect(moved).toMatchObject({ qualifies: false, status: 'EXISTING' });
    expect(moved.tree.children.map((child: { value: boolean }) => child.value)).toEqual([false, false]);
    expect(moved.tree.children[1].evidence).toEqual({ actual: null });

    const never = (await gql(suite.url, EXPLAIN, { segmentId: us.id, memberId: 'prof_d' }, { sandbox, role: 'viewer' })).explainMembership;
    expect(never).toMatchObject({ qualifies: false, status: null });
  });

  it('answers NOT_FOUND for an unknown segment or member', async () => {
    const segment = await postGraphQL(suite.url, EXPLAIN, { segmentId: 'seg_nowhere', memberId: 'prof_a' }, { sandbox });
    expect(segment.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const member = await postGraphQL(suite.url, EXPLAIN, { segmentId: us.id, memberId: 'prof_nobody' }, { sandbox });
    expect(member.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(member.errors?.[0]?.message).toContain('prof_nobody');
  });
});
