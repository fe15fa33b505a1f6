import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProfileSubgraph } from '../../subgraphs/profile/server.js';
import { gql, postGraphQL } from './support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from './support/subgraphSuite.js';

const UPSERT = /* GraphQL */ `
  mutation Upsert($people: [PersonInput!]!) {
    upsertPeople(people: $people) {
      index
      status
      profile { id firstName lastName jobTitle workEmail identities { namespace value } }
      error { code message field }
    }
  }
`;

const PROFILE = /* GraphQL */ `
  query Profile($id: ID!) {
    profile(id: $id) { id firstName lastName jobTitle workEmail identities { namespace value } createdAt updatedAt }
  }
`;

describe('profile subgraph', () => {
  let suite: SubgraphSuite;
  const now = new Date('2026-02-01T10:00:00.000Z');

  beforeAll(async () => {
    suite = await startSubgraphSuite(startProfileSubgraph, { now: () => now });
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('creates a person, normalising the email and deriving an Email identity', async () => {
    const { upsertPeople } = await gql(suite.url, UPSERT, {
      people: [
        {
          firstName: ' Ada ',
          lastName: 'Lovelace',
          jobTitle: 'VP Engineering',
          workEmail: '  Ada@Example.COM ',
          identities: [{ namespace: 'ECID', value: 'ecid-1' }],
        },
      ],
    });
    expect(upsertPeople).toHaveLength(1);
    const [result] = upsertPeople;
    expect(result).toMatchObject({ index: 0, status: 'CREATED', error: null });
    expect(result.profile).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', workEmail: 'ada@example.com' });
    expect(result.profile.id).toMatch(/^prof_[0-9a-z]{26}$/);
    expect(result.profile.identities).toEqual([
      { namespace: 'ECID', value: 'ecid-1' },
      { namespace: 'Email', value: 'ada@example.com' },
    ]);

    const { profile } = await gql(suite.url, PROFILE, { id: result.profile.id });
    expect(profile).toMatchObject({ id: result.profile.id, firstName: 'Ada', createdAt: now.toISOString(), updatedAt: now.toISOString() });
  });

  it('updates the profile that shares an identity and keeps fields that were left out', async () => {
    const [created] = (
      await gql(suite.url, UPSERT, { people: [{ firstName: 'Grace', lastName: 'Hopper', workEmail: 'grace@navy.example' }] })
    ).upsertPeople;
    const [updated] = (
      await gql(suite.url, UPSERT, {
        people: [{ jobTitle: 'Rear Admiral', identities: [{ namespace: 'email', value: 'GRACE@navy.example' }, { namespace: 'b2b_person', value: '42@123-ABC-456.Marketo' }] }],
      })
    ).upsertPeople;
    expect(updated.status).toBe('UPDATED');
    expect(updated.profile.id).toBe(created.profile.id);
    expect(updated.profile).toMatchObject({ firstName: 'Grace', lastName: 'Hopper', jobTitle: 'Rear Admiral' });
    expect(updated.profile.identities).toEqual(
      expect.arrayContaining([
        { namespace: 'Email', value: 'grace@navy.example' },
        { namespace: 'b2b_person', value: '42@123-ABC-456.Marketo' },
      ]),
    );

    const { profileByIdentity } = await gql(
      suite.url,
      `query { profileByIdentity(namespace: "b2b_person", value: "42@123-ABC-456.Marketo") { id } }`,
    );
    expect(profileByIdentity.id).toBe(created.profile.id);
  });

  it('rejects invalid records one by one, writes nothing for them and keeps the valid ones', async () => {
    const sandbox = 'rejects';
    const { upsertPeople } = await gql(
      suite.url,
      UPSERT,
      {
        people: [
          { firstName: 'Bad', workEmail: 'not-an-email', identities: [{ namespace: 'ECID', value: 'bad-ecid' }] },
          { firstName: 'Good', workEmail: 'good@example.com' },
          { firstName: 'Nobody' },
          { identities: [{ namespace: '1nvalid', value: 'x' }] },
        ],
      },
      { sandbox },
    );
    expect(upsertPeople.map((r: any) => r.status)).toEqual(['REJECTED', 'CREATED', 'REJECTED', 'REJECTED']);
    expect(upsertPeople.map((r: any) => r.index)).toEqual([0, 1, 2, 3]);
    expect(upsertPeople[0].error).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(upsertPeople[0].error.message).toMatch(/workEmail/);
    expect(upsertPeople[0].profile).toBeNull();
    expect(upsertPeople[2].error.message).toMatch(/sourceKey, an identity or a workEmail/);
    expect(upsertPeople[3].error).toMatchObject({ field: 'identities.namespace' });
    expect(upsertPeople[3].error.message).toMatch(/namespace/);

    // The rejected record's ECID identity was not written anywhere.
    const { profileByIdentity } = await gql(
      suite.url,
      `query { profileByIdentity(namespace: "ECID", value: "bad-ecid") { id } }`,
      {},
      { sandbox },
    );
    expect(profileByIdentity).toBeNull();
    expect(await suite.databases.sandbox(sandbox).collection('people').countDocuments()).toBe(1);
  });

  it('merges the profiles a record bridges instead of rejecting it', async () => {
    const sandbox = 'bridges';
    const created = await gql(suite.url, UPSERT, { people: [{ workEmail: 'a@example.com' }, { workEmail: 'b@example.com' }] }, { sandbox });
    const [a, b] = created.upsertPeople.map((r: any) => r.profile.id);
    const { upsertPeople } = await gql(
      suite.url,
      UPSERT,
      { people: [{ identities: [{ namespace: 'Email', value: 'a@example.com' }, { namespace: 'Email', value: 'b@example.com' }] }] },
      { sandbox },
    );
    expect(upsertPeople[0]).toMatchObject({ status: 'MERGED', error: null, profile: { id: a } });
    const { profile } = await gql(suite.url, PROFILE, { id: b }, { sandbox });
    expect(profile.id).toBe(a);
  });

  it('refuses more than 1000 records in one call', async () => {
    const people = Array.from({ length: 1001 }, (_, i) => ({ workEmail: `p${i}@example.com` }));
    const response = await postGraphQL(suite.url, UPSERT, { people });
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/at most 1000/);
  });

  it('returns null for an unknown id', async () => {
    const { profile } = await gql(suite.url, PROFILE, { id: 'prof_missing' });
    expect(profile).toBeNull();
  });

  it('lists profiles page by page in creation order', async () => {
    const sandbox = 'paging';
    await gql(suite.url, UPSERT, { people: [1, 2, 3].map((i) => ({ workEmail: `page${i}@example.com` })) }, { sandbox });
    const PAGE = `query($after: String) { profiles(first: 2, after: $after) { edges { cursor node { id workEmail } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await gql(suite.url, PAGE, {}, { sandbox })).profiles;
    expect(first.edges).toHaveLength(2);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[1].cursor });
    const next = (await gql(suite.url, PAGE, { after: first.pageInfo.endCursor }, { sandbox })).profiles;
    expect(next.edges).toHaveLength(1);
    expect(next.pageInfo.hasNextPage).toBe(false);
    expect([...first.edges, ...next.edges].map((e: any) => e.node.workEmail).sort()).toEqual([
      'page1@example.com',
      'page2@example.com',
      'page3@example.com',
    ]);
  });
});
