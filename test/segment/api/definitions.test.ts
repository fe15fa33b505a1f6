/**
 * Segment definitions through the segment subgraph: expressions checked with
 * positions in the error's extensions, `inSegment` dependencies, cycles refused,
 * the per-sandbox limit, deletes and target changes refused while others rely on
 * the segment, and roles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SEGMENTS_PER_SANDBOX } from '../../../subgraphs/segment/segment.service.js';
import { gql, postGraphQL } from '../../subgraphs/support/graphql.js';
import type { SubgraphSuite } from '../../subgraphs/support/subgraphSuite.js';
import { startSegmentSuite, storeMemberships } from './support.js';

const CREATE = `mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id name expression targetEntity evaluationMethod evaluationReasons dependsOn { id } } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateSegmentInput!) { updateSegment(id: $id, input: $input) { id expression targetEntity dependsOn { id } } }`;
const DELETE = `mutation ($id: ID!) { deleteSegment(id: $id) }`;
// Recent, so exited memberships are well within their retention while the tests read them.
const runs = { first: new Date(Date.now() - 2 * 86_400_000), second: new Date(Date.now() - 86_400_000) };

describe('segment definitions', () => {
  let suite: SubgraphSuite;
  beforeAll(async () => {
    suite = await startSegmentSuite();
  });
  afterAll(async () => {
    await suite?.stop();
  });

  const create = async (sandbox: string, input: Record<string, unknown>) =>
    (await gql(suite.url, CREATE, { input: { targetEntity: 'PERSON', ...input } }, { sandbox, role: 'editor' })).createSegment;

  it('answers a syntax error with its line, column and what was expected, and stores nothing', async () => {
    const sandbox = 'syntax';
    const response = await postGraphQL(
      suite.url,
      CREATE,
      { input: { name: 'Broken', targetEntity: 'PERSON', expression: 'jobTitle = "VP"\n  and country = = "US"' } },
      { sandbox, role: 'editor' },
    );
    const [error] = response.errors ?? [];
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 2, column: 17 });
    expect(error?.extensions?.expected).toEqual(expect.arrayContaining([expect.any(String)]));
    expect(error?.message).toMatch(/expression/);
    expect(await suite.databases.sandbox(sandbox).collection('segments').countDocuments()).toBe(0);
  });

  it('suggests the field meant for an unknown one, pointing at it', async () => {
    const response = await postGraphQL(
      suite.url,
      CREATE,
      { input: { name: 'Typo', targetEntity: 'PERSON', expression: 'country = "US" and jobTitel.contains("vp", false)' } },
      { sandbox: 'typo', role: 'editor' },
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 1, column: 20, suggestion: 'jobTitle' });
    expect(response.errors?.[0]?.message).toMatch(/jobTitle/);
  });

  it('refuses a field of the wrong target and an unknown segment in inSegment', async () => {
    const wrongTarget = await postGraphQL(suite.url, CREATE, { input: { name: 'x', targetEntity: 'ACCOUNT', expression: 'jobTitle = "VP"' } }, { sandbox: 'types', role: 'editor' });
    expect(wrongTarget.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 1, column: 1 });
    const unknown = await postGraphQL(suite.url, CREATE, { input: { name: 'x', targetEntity: 'PERSON', expression: 'inSegment("seg_nowhere")' } }, { sandbox: 'types', role: 'editor' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 1 });
    expect(unknown.errors?.[0]?.message).toMatch(/seg_nowhere/);
  });

  it('records inSegment dependencies both ways and says how the segment is evaluated', async () => {
    const sandbox = 'deps';
    const vps = await create(sandbox, { name: 'VPs', expression: 'jobTitle.contains("vp", false)' });
    expect(vps.evaluationMethod).toBe('BATCH');
    expect(vps.evaluationReasons).toEqual(['Streaming evaluation is not available yet; evaluated nightly and on demand']);
    const us = await create(sandbox, { name: 'US', expression: 'country = "US"' });
    const usVps = await create(sandbox, { name: 'US VPs', expression: `inSegment("${vps.id}") and inSegment("${us.id}")` });
    expect(usVps.dependsOn).toEqual([{ id: vps.id }, { id: us.id }]);

    const { segment } = await gql(suite.url, `query ($id: ID!) { segment(id: $id) { usedBy { name } dependsOn { name } } }`, { id: vps.id }, { sandbox, role: 'viewer' });
    expect(segment).toEqual({ usedBy: [{ name: 'US VPs' }], dependsOn: [] });

    const updated = (await gql(suite.url, UPDATE, { id: usVps.id, input: { expression: `inSegment("${us.id}")` } }, { sandbox })).updateSegment;
    expect(updated.dependsOn).toEqual([{ id: us.id }]);
  });

  it('refuses an inSegment cycle, naming it, and leaves the segment as it was', async () => {
    const sandbox = 'cycles';
    const a = await create(sandbox, { name: 'A', expression: 'leadScore > 10' });
    const b = await create(sandbox, { name: 'B', expression: `inSegment("${a.id}") and country = "US"` });
    const c = await create(sandbox, { name: 'C', expression: `inSegment("${b.id}")` });

    const cycle = await postGraphQL(suite.url, UPDATE, { id: a.id, input: { expression: `inSegment("${c.id}")` } }, { sandbox, role: 'editor' });
    expect(cycle.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(cycle.errors?.[0]?.message).toContain(`${a.id} ("A") -> ${c.id} ("C") -> ${b.id} ("B") -> ${a.id} ("A")`);

    const self = await postGraphQL(suite.url, UPDATE, { id: a.id, input: { expression: `inSegment("${a.id}")` } }, { sandbox, role: 'editor' });
    expect(self.errors?.[0]?.message).toContain(`${a.id} ("A") -> ${a.id} ("A")`);

    const { segment } = await gql(suite.url, `query ($id: ID!) { segment(id: $id) { expression dependsOn { id } } }`, { id: a.id }, { sandbox });
    expect(segment).toEqual({ expression: 'leadScore > 10', dependsOn: [] });
  });

  it(`refuses more than ${MAX_SEGMENTS_PER_SANDBOX} segments in a sandbox`, async () => {
    const sandbox = 'full';
    const at = new Date();
    await suite.databases
      .sandbox(sandbox)
      .collection('segments')
      .insertMany(
        Array.from({ length: MAX_SEGMENTS_PER_SANDBOX }, (_, i) => ({
          _id: `seg_filler${String(i).padStart(5, '0')}` as never,
          name: `Filler ${i}`,
          description: null,
          expression: 'true',
          targetEntity: 'PERSON',
          dependsOn: [],
          createdAt: at,
          updatedAt: at,
        })),
      );
    const response = await postGraphQL(suite.url, CREATE, { input: { name: 'One more', targetEntity: 'PERSON', expression: 'true' } }, { sandbox, role: 'editor' });
    expect(response.errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');
    expect(response.errors?.[0]?.message).toContain(String(MAX_SEGMENTS_PER_SANDBOX));
  });

  it('refuses to delete a segment others use, naming them; deleting removes its memberships', async () => {
    const sandbox = 'deletes';
    const base = await create(sandbox, { name: 'Base', expression: 'exists(workEmail)' });
    const user = await create(sandbox, { name: 'User', expression: `inSegment("${base.id}")` });
    const db = suite.databases.sandbox(sandbox);
    await storeMemberships(db, { id: base.id, targetEntity: 'PERSON' }, { entered: ['prof_1', 'prof_2'] }, runs);

    const refused = await postGraphQL(suite.url, DELETE, { id: base.id }, { sandbox, role: 'editor' });
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0]?.message).toContain(`${user.id} ("User")`);

    expect((await gql(suite.url, DELETE, { id: user.id }, { sandbox, role: 'editor' })).deleteSegment).toBe(user.id);
    expect((await gql(suite.url, DELETE, { id: base.id }, { sandbox, role: 'editor' })).deleteSegment).toBe(base.id);
    expect(await db.collection('segmentMemberships').countDocuments({ segmentId: base.id })).toBe(0);
    const { _entities } = await gql(
      suite.url,
      `{ _entities(representations: [{ __typename: "Profile", id: "prof_1" }]) { ... on Profile { segmentMemberships { status } } } }`,
      {},
      { sandbox },
    );
    expect(_entities).toEqual([{ segmentMemberships: [] }]);
  });

  it('refuses to change the target of a segment that is used or has memberships', async () => {
    const sandbox = 'targets';
    const used = await create(sandbox, { name: 'Used', expression: 'true' });
    await create(sandbox, { name: 'User', expression: `inSegment("${used.id}")` });
    const usedResponse = await postGraphQL(suite.url, UPDATE, { id: used.id, input: { targetEntity: 'ACCOUNT' } }, { sandbox, role: 'editor' });
    expect(usedResponse.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(usedResponse.errors?.[0]?.message).toMatch(/inSegment/);

    const evaluated = await create(sandbox, { name: 'Evaluated', expression: 'true' });
    await storeMemberships(suite.databases.sandbox(sandbox), { id: evaluated.id, targetEntity: 'PERSON' }, { exited: ['prof_9'] }, runs);
    const evaluatedResponse = await postGraphQL(suite.url, UPDATE, { id: evaluated.id, input: { targetEntity: 'ACCOUNT' } }, { sandbox, role: 'editor' });
    expect(evaluatedResponse.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(evaluatedResponse.errors?.[0]?.message).toMatch(/memberships/);

    const fresh = await create(sandbox, { name: 'Fresh', expression: 'true' });
    const changed = (await gql(suite.url, UPDATE, { id: fresh.id, input: { targetEntity: 'ACCOUNT', expression: 'annualRevenue >= 1000000' } }, { sandbox, role: 'editor' })).updateSegment;
    expect(changed).toMatchObject({ targetEntity: 'ACCOUNT', expression: 'annualRevenue >= 1000000' });
    // The kept expression is checked against the new target.
    const mismatch = await postGraphQL(suite.url, UPDATE, { id: fresh.id, input: { targetEntity: 'PERSON' } }, { sandbox, role: 'editor' });
    expect(mismatch.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 1, column: 1 });
  });

  it('lets viewers read and only editors change definitions', async () => {
    const sandbox = 'roles';
    const denied = await postGraphQL(suite.url, CREATE, { input: { name: 'x', targetEntity: 'PERSON', expression: 'true' } }, { sandbox, role: 'viewer' });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const segment = await create(sandbox, { name: 'Readable', expression: 'true' });
    const read = await gql(suite.url, `query ($id: ID!) { segment(id: $id) { name size lastEvaluation { realized } members { totalCount } } }`, { id: segment.id }, { sandbox, role: 'viewer' });
    expect(read.segment).toEqual({ name: 'Readable', size: 0, lastEvaluation: null, members: { totalCount: 0 } });
    const deleteDenied = await postGraphQL(suite.url, DELETE, { id: segment.id }, { sandbox, role: 'viewer' });
    expect(deleteDenied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
