/** The identity graph through the profile subgraph: joins, merges, merge chains, unmerge, the identity cap, merge policy. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProfileSuite, type ProfileSuite } from './support.js';

let p: ProfileSuite;
beforeAll(async () => {
  p = await startProfileSuite();
});
afterAll(async () => {
  await p?.stop();
});

const MERGES = `query($id: ID!) { profile(id: $id) { id merges { id survivorId absorbedProfileIds bridgingRecord bridgingIdentities { namespace value } records unmergedAt } } }`;
const UNMERGE = `mutation($id: ID!, $mergeId: ID) { unmergeProfile(id: $id, mergeId: $mergeId) { id sourceKeys identities { namespace value } firstName linkKeys } }`;

describe('identity graph', () => {
  it('one person in Marketo and in Salesforce sharing an email becomes one profile with both source keys', async () => {
    const sb = p.sandbox();
    const [marketo] = await p.upsert(sb, [{ sourceKey: '1234@123-ABC-456.Marketo', firstName: 'Ada', workEmail: 'Ada@Engines.example' }]);
    p.clock.advance(1000);
    const [salesforce] = await p.upsert(sb, [{ sourceKey: '0035e00000AbCdE@00D5e000001XyZ.Salesforce', lastName: 'Lovelace', workEmail: ' ada@engines.example ' }]);
    expect(marketo.status).toBe('CREATED');
    expect(salesforce).toMatchObject({ status: 'UPDATED', profile: { id: marketo.profile.id, firstName: 'Ada', lastName: 'Lovelace' } });
    expect(salesforce.profile.sourceKeys).toEqual(['1234@123-ABC-456.Marketo', '0035e00000AbCdE@00D5e000001XyZ.Salesforce']);
    expect(salesforce.profile.linkKeys).toEqual([
      `id:${marketo.profile.id}`,
      'b2b_person:1234@123-ABC-456.Marketo',
      'b2b_person:0035e00000AbCdE@00D5e000001XyZ.Salesforce',
    ]);
    const byKey = await p.gql(sb, `{ profileByIdentity(namespace: "b2b_person", value: "0035e00000AbCdE@00D5e000001XyZ.Salesforce") { id } }`);
    expect(byKey.profileByIdentity.id).toBe(marketo.profile.id);
  });

  it('two Marketo instances with the same lead id stay two profiles', async () => {
    const sb = p.sandbox();
    const results = await p.upsert(sb, [
      { sourceKey: '1234@111-AAA-111.Marketo', firstName: 'First' },
      { sourceKey: '1234@222-BBB-222.Marketo', firstName: 'Second' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'CREATED']);
    expect(results[0].profile.id).not.toBe(results[1].profile.id);
    expect(results.map((r) => r.profile.firstName)).toEqual(['First', 'Second']);
  });

  it('an ECID bridges two profiles: the merge is recorded and the absorbed id resolves to the survivor', async () => {
    const sb = p.sandbox();
    const [a] = await p.upsert(sb, [{ sourceKey: '1@123-ABC-456.Marketo', firstName: 'Ada', workEmail: 'ada@a.example' }]);
    p.clock.advance(1000);
    const [b] = await p.upsert(sb, [{ sourceKey: '2@00D5e000001XyZ.Salesforce', jobTitle: 'CTO', identities: [{ namespace: 'ECID', value: 'ecid-42' }] }]);
    p.clock.advance(1000);
    const [bridge] = await p.upsert(sb, [{ identities: [{ namespace: 'ECID', value: 'ecid-42' }, { namespace: 'Email', value: 'ADA@a.example' }] }]);
    expect(bridge).toMatchObject({ status: 'MERGED', profile: { id: a.profile.id, firstName: 'Ada', jobTitle: 'CTO' } });

    const absorbed = await p.profile(sb, b.profile.id);
    expect(absorbed.id).toBe(a.profile.id);
    expect(absorbed.linkKeys).toContain(`id:${b.profile.id}`);
    const entities = await p.gql(sb, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Profile { id firstName } } }`, {
      r: [{ __typename: 'Profile', id: b.profile.id }, { __typename: 'Profile', id: 'prof_nobody' }, { __typename: 'Profile', id: a.profile.id }],
    });
    expect(entities._entities).toEqual([{ id: a.profile.id, firstName: 'Ada' }, null, { id: a.profile.id, firstName: 'Ada' }]);

    const { profile } = await p.gql(sb, MERGES, { id: b.profile.id });
    expect(profile.merges).toHaveLength(1);
    expect(profile.merges[0]).toMatchObject({
      survivorId: a.profile.id,
      absorbedProfileIds: [b.profile.id],
      bridgingRecord: 'ECID:ecid-42',
      bridgingIdentities: [{ namespace: 'ECID', value: 'ecid-42' }, { namespace: 'Email', value: 'ada@a.example' }],
      unmergedAt: null,
    });
    // What the merge brought in: the absorbed profile's record and the record that bridged them.
    expect(profile.merges[0].records).toEqual(['2@00D5e000001XyZ.Salesforce', 'ECID:ecid-42']);
    expect(await p.suite.databases.sandbox(sb).collection('people').countDocuments()).toBe(1);
  });

  it('a merge chain A-B-C ends in one profile, and unmerge takes it apart one merge at a time', async () => {
    const sb = p.sandbox();
    const created = [];
    for (const [key, field] of [['A', 'firstName'], ['B', 'lastName'], ['C', 'jobTitle']]) {
      created.push(...(await p.upsert(sb, [{ sourceKey: `${key}@inst.Marketo`, [field!]: key, identities: [{ namespace: 'ECID', value: key.toLowerCase() }] }])));
      p.clock.advance(1000);
    }
    const [a, b, c] = created.map((r) => r.profile.id);
    p.clock.advance(1000);
    const [ab] = await p.upsert(sb, [{ sourceKey: 'AB@org.Salesforce', identities: [{ namespace: 'ECID', value: 'a' }, { namespace: 'ECID', value: 'b' }] }]);
    p.clock.advance(1000);
    const [bc] = await p.upsert(sb, [{ sourceKey: 'BC@org.Salesforce', identities: [{ namespace: 'ECID', value: 'b' }, { namespace: 'ECID', value: 'c' }] }]);
    expect([ab.status, bc.status]).toEqual(['MERGED', 'MERGED']);
    expect(bc.profile).toMatchObject({ id: a, firstName: 'A', lastName: 'B', jobTitle: 'C' });
    for (const id of [a, b, c]) expect((await p.profile(sb, id)).id).toBe(a);

    // The last merge (C) first.
    const [survivor, restoredC] = (await p.gql(sb, UNMERGE, { id: c })).unmergeProfile;
    expect(survivor.id).toBe(a);
    expect(restoredC).toMatchObject({ id: c, sourceKeys: ['C@inst.Marketo'] });
    expect(survivor.sourceKeys).not.toContain('C@inst.Marketo');
    expect(survivor.linkKeys).not.toContain(`id:${c}`);
    expect((await p.profile(sb, c)).id).toBe(c);
    expect((await p.profile(sb, b)).id).toBe(a);

    const [, restoredB] = (await p.gql(sb, UNMERGE, { id: a })).unmergeProfile;
    expect(restoredB).toMatchObject({ id: b, sourceKeys: ['B@inst.Marketo'], firstName: null });
    expect((await p.profile(sb, b)).lastName).toBe('B');
    const { profile } = await p.gql(sb, MERGES, { id: a });
    expect(profile.merges.map((m: any) => m.unmergedAt !== null)).toEqual([true, true]);

    const none = await p.post(sb, UNMERGE, { id: a });
    expect(none.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('unmerges a given merge', async () => {
    const sb = p.sandbox();
    const [x] = await p.upsert(sb, [{ workEmail: 'x@u.example', firstName: 'X' }]);
    p.clock.advance(1000);
    const [y] = await p.upsert(sb, [{ workEmail: 'y@u.example', firstName: 'Y' }]);
    await p.upsert(sb, [{ identities: [{ namespace: 'Email', value: 'x@u.example' }, { namespace: 'Email', value: 'y@u.example' }] }]);
    const { profile } = await p.gql(sb, MERGES, { id: y.profile.id });
    const [survivor, restored] = (await p.gql(sb, UNMERGE, { id: y.profile.id, mergeId: profile.merges[0].id })).unmergeProfile;
    expect([survivor.id, restored.id]).toEqual([x.profile.id, y.profile.id]);
    expect(restored.firstName).toBe('Y');
    const missing = await p.post(sb, UNMERGE, { id: x.profile.id, mergeId: 'mrg_nope' });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a long chain of merges stores each merge once, and pages through them', async () => {
    const sb = p.sandbox();
    // Within the 50-identity cap (two per record), so an undone merge finds its identities.
    const chain = 24;
    const [root] = await p.upsert(sb, [{ sourceKey: 'root@inst.Marketo', identities: [{ namespace: 'ECID', value: 'root' }] }]);
    p.clock.advance(1000);
    await p.upsert(sb, Array.from({ length: chain }, (_, i) => ({ sourceKey: `${i}@inst.Salesforce`, identities: [{ namespace: 'ECID', value: `link-${i}` }] })));
    for (let i = 0; i < chain; i++) {
      p.clock.advance(1000);
      const [bridge] = await p.upsert(sb, [{ identities: [{ namespace: 'ECID', value: 'root' }, { namespace: 'ECID', value: `link-${i}` }] }]);
      expect(bridge).toMatchObject({ status: 'MERGED', profile: { id: root.profile.id } });
    }
    // Each merge record describes one merge: the last is no larger than the first, whatever came before.
    const sizes = (await p.suite.databases.sandbox(sb).collection('profileMerges').find({}).sort({ mergedAt: 1 }).toArray()).map((doc) => JSON.stringify(doc).length);
    expect(sizes).toHaveLength(chain);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(sizes[0]! + 16);

    const HISTORY = `query($id: ID!, $after: String) { profile(id: $id) { mergeHistory(first: 10, after: $after) { edges { node { id records } } pageInfo { hasNextPage endCursor } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    // Bounded, so a cursor that never ends fails the page count below rather than hanging.
    for (let hasNextPage = true; hasNextPage && pages < 10; pages++) {
      const history: any = (await p.gql(sb, HISTORY, { id: root.profile.id, after })).profile.mergeHistory;
      seen.push(...history.edges.map((edge: any) => edge.node.id));
      expect(history.edges[0].node.records).toHaveLength(2);
      hasNextPage = history.pageInfo.hasNextPage;
      after = history.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(chain);
    expect(new Set(seen).size).toBe(chain);
    expect([...seen].sort()).toEqual(seen);
    expect((await p.gql(sb, `query($id: ID!) { profile(id: $id) { merges { id } } }`, { id: root.profile.id })).profile.merges.map((m: any) => m.id)).toEqual(seen);
    const tooMany = await p.post(sb, `query($id: ID!) { profile(id: $id) { merges(first: 501) { id } } }`, { id: root.profile.id });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // Undoing a merge in the middle of the chain still splits off just that profile.
    const [survivor, restored] = (await p.gql(sb, UNMERGE, { id: root.profile.id, mergeId: seen[12] })).unmergeProfile;
    expect(survivor.id).toBe(root.profile.id);
    expect(restored.sourceKeys).toEqual(['12@inst.Salesforce']);
    expect(restored.identities).toEqual([{ namespace: 'b2b_person', value: '12@inst.Salesforce' }, { namespace: 'ECID', value: 'link-12' }]);
    expect(survivor.identities).not.toContainEqual({ namespace: 'ECID', value: 'link-12' });
    expect(survivor.identities).toContainEqual({ namespace: 'ECID', value: 'link-13' });
  });

  it('keeps at most 50 identities, dropping the oldest first', async () => {
    const sb = p.sandbox();
    const [first] = await p.upsert(sb, [{ sourceKey: 'cap@inst.Marketo', identities: [{ namespace: 'ECID', value: 'ecid-0' }] }]);
    // Each record joins through the previous ECID and brings one more.
    for (let i = 1; i <= 50; i++) {
      p.clock.advance(1000);
      const [joined] = await p.upsert(sb, [{ identities: [{ namespace: 'ECID', value: `ecid-${i}` }, { namespace: 'ECID', value: `ecid-${i - 1}` }] }]);
      expect(joined.profile.id).toBe(first.profile.id);
    }
    const profile = await p.profile(sb, first.profile.id);
    expect(profile.identities).toHaveLength(50);
    // 52 identities were seen (the source key and 51 ECIDs): the source key and ecid-0, the oldest, are gone.
    const values = profile.identities.map((i: any) => i.value);
    expect(values).not.toContain('ecid-0');
    expect(values).not.toContain('cap@inst.Marketo');
    expect(values[0]).toBe('ecid-1');
    expect(values.at(-1)).toBe('ecid-50');
    const gone = await p.gql(sb, `{ profileByIdentity(namespace: "ECID", value: "ecid-0") { id } }`);
    expect(gone.profileByIdentity).toBeNull();
    // The record is still found by its source key: sending it again updates the same profile, and its key, seen again, is the newest identity.
    p.clock.advance(1000);
    const [again] = await p.upsert(sb, [{ sourceKey: 'cap@inst.Marketo', firstName: 'Capped' }]);
    expect(again).toMatchObject({ status: 'UPDATED', profile: { id: first.profile.id, firstName: 'Capped' } });
    expect(again.profile.identities).toHaveLength(50);
    expect(again.profile.identities.at(-1)).toEqual({ namespace: 'b2b_person', value: 'cap@inst.Marketo' });
  });
});

describe('merge policy', () => {
  const SET = `mutation($input: MergePolicyInput!) { setMergePolicy(input: $input) { kind sourcePriority } }`;

  it('timestamp-ordered by default: per field, the most recently changed record wins', async () => {
    const sb = p.sandbox();
    expect((await p.gql(sb, `{ mergePolicy { kind sourcePriority updatedAt } }`)).mergePolicy).toEqual({ kind: 'TIMESTAMP_ORDERED', sourcePriority: [], updatedAt: null });
    await p.upsert(sb, [
      { sourceKey: '1@org.Salesforce', workEmail: 'm@p.example', jobTitle: 'CFO', firstName: 'Old', sourceUpdatedAt: '2026-01-10T00:00:00Z' },
      { sourceKey: '1@123-ABC-456.Marketo', workEmail: 'm@p.example', jobTitle: 'CEO', sourceUpdatedAt: '2026-01-20T00:00:00Z' },
      // Older than both: loses every field it shares with them.
      { sourceKey: '2@123-ABC-456.Marketo', workEmail: 'm@p.example', jobTitle: 'Intern', firstName: 'Older', leadScore: 7, sourceUpdatedAt: '2025-12-01T00:00:00Z' },
    ]);
    const profile = (await p.gql(sb, `{ profileByIdentity(namespace: "Email", value: "m@p.example") { jobTitle firstName leadScore } }`)).profileByIdentity;
    expect(profile).toEqual({ jobTitle: 'CEO', firstName: 'Old', leadScore: 7 });
  });

  it('source priority: the listed source wins, and setting the policy recomputes existing profiles', async () => {
    const sb = p.sandbox();
    await p.upsert(sb, [
      { sourceKey: '1@org.Salesforce', workEmail: 's@p.example', jobTitle: 'CFO', sourceUpdatedAt: '2026-01-10T00:00:00Z' },
      { sourceKey: '1@123-ABC-456.Marketo', workEmail: 's@p.example', jobTitle: 'CEO', sourceUpdatedAt: '2026-01-20T00:00:00Z' },
    ]);
    const title = async () => (await p.gql(sb, `{ profileByIdentity(namespace: "Email", value: "s@p.example") { jobTitle } }`)).profileByIdentity.jobTitle;
    expect(await title()).toBe('CEO');
    const set = await p.gql(sb, SET, { input: { kind: 'SOURCE_PRIORITY', sourcePriority: ['Salesforce', 'Marketo'] } });
    expect(set.setMergePolicy).toEqual({ kind: 'SOURCE_PRIORITY', sourcePriority: ['Salesforce', 'Marketo'] });
    expect(await title()).toBe('CFO');
    await p.gql(sb, SET, { input: { kind: 'SOURCE_PRIORITY', sourcePriority: ['123-ABC-456.Marketo'] } });
    expect(await title()).toBe('CEO');
    const bad = await p.post(sb, SET, { input: { kind: 'SOURCE_PRIORITY', sourcePriority: [] } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const editor = await postAs(sb, 'editor', SET, { input: { kind: 'TIMESTAMP_ORDERED' } });
    expect(editor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

async function postAs(sandbox: string, role: 'viewer' | 'editor', query: string, variables: Record<string, unknown>) {
  const { postGraphQL } = await import('../subgraphs/support/graphql.js');
  return postGraphQL(p.suite.url, query, variables, { sandbox, role });
}
