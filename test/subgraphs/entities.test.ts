/**
 * Federation contract of every subgraph: each `@key` type resolves through
 * `_entities` (null for an unknown id), the SDL links federation v2.9, and data
 * in one sandbox is invisible from another.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabases } from '../../lib/mongo/databases.js';
import type { RunningService } from '../../lib/service.js';
import { startAccountSubgraph } from '../../subgraphs/account/server.js';
import { startDestinationSubgraph } from '../../subgraphs/destination/server.js';
import { startProfileSubgraph } from '../../subgraphs/profile/server.js';
import { startSegmentSubgraph } from '../../subgraphs/segment/server.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';
import { gql, postGraphQL } from './support/graphql.js';
import { TEST_SECURITY } from './support/security.js';

type Name = 'profile' | 'account' | 'segment' | 'destination';

describe('entities across the four subgraphs', () => {
  let client: MongoClient;
  let prefix: string;
  const services = {} as Record<Name, RunningService>;
  const ids = {} as Record<'profile' | 'account' | 'opportunity' | 'segment' | 'destination', string>;
  const sandbox = 'entities';

  beforeAll(async () => {
    client = await connectTestClient();
    prefix = uniqueName('t_ent_');
    const databases = createDatabases(client, `${prefix}_`);
    const starters = { profile: startProfileSubgraph, account: startAccountSubgraph, segment: startSegmentSubgraph, destination: startDestinationSubgraph };
    for (const [name, start] of Object.entries(starters) as Array<[Name, typeof startProfileSubgraph]>) {
      services[name] = await start({ databases, security: TEST_SECURITY, port: 0 });
    }

    const people = await gql(services.profile.url, `mutation { upsertPeople(people: [{ firstName: "Ada", workEmail: "ada@example.com" }]) { profile { id } } }`, {}, { sandbox });
    ids.profile = people.upsertPeople[0].profile.id;
    const accounts = await gql(services.account.url, `mutation { upsertAccounts(accounts: [{ name: "Acme" }]) { account { id } } }`, {}, { sandbox });
    ids.account = accounts.upsertAccounts[0].account.id;
    const opportunities = await gql(
      services.account.url,
      `mutation($a: ID!) { upsertOpportunities(opportunities: [{ accountId: $a, name: "Deal" }]) { opportunity { id } } }`,
      { a: ids.account },
      { sandbox },
    );
    ids.opportunity = opportunities.upsertOpportunities[0].opportunity.id;
    await gql(
      services.account.url,
      `mutation($p: ID!, $a: ID!) { linkPeopleToAccounts(links: [{ personId: $p, accountId: $a }]) { status } }`,
      { p: ids.profile, a: ids.account },
      { sandbox },
    );
    const segment = await gql(
      services.segment.url,
      `mutation { createSegment(input: { name: "All", expression: "exists(workEmail)", targetEntity: PERSON }) { id } }`,
      {},
      { sandbox },
    );
    ids.segment = segment.createSegment.id;
    const destination = await gql(services.destination.url, `mutation { createDestination(input: { type: CLOUD_STORAGE, name: "Files" }) { id } }`, {}, { sandbox });
    ids.destination = destination.createDestination.id;
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((service) => service.stop()));
    if (client) {
      await dropDatabasesWithPrefix(client, prefix);
      await client.close();
    }
  });

  const cases: Array<{ subgraph: Name; type: string; key: keyof typeof ids; selection: string; expected: (id: string) => Record<string, unknown> }> = [
    { subgraph: 'profile', type: 'Profile', key: 'profile', selection: 'id firstName workEmail', expected: (id) => ({ id, firstName: 'Ada', workEmail: 'ada@example.com' }) },
    { subgraph: 'account', type: 'Account', key: 'account', selection: 'id name', expected: (id) => ({ id, name: 'Acme' }) },
    { subgraph: 'account', type: 'Opportunity', key: 'opportunity', selection: 'id name account { name }', expected: (id) => ({ id, name: 'Deal', account: { name: 'Acme' } }) },
    { subgraph: 'segment', type: 'Segment', key: 'segment', selection: 'id name targetEntity', expected: (id) => ({ id, name: 'All', targetEntity: 'PERSON' }) },
    { subgraph: 'destination', type: 'Destination', key: 'destination', selection: 'id name type hasCredentials', expected: (id) => ({ id, name: 'Files', type: 'CLOUD_STORAGE', hasCredentials: false }) },
  ];

  const entitiesQuery = (type: string, selection: string) =>
    `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${type} { ${selection} } } }`;

  it.each(cases)('$subgraph resolves $type by id through _entities, null for an unknown id', async ({ subgraph, type, key, selection, expected }) => {
    const { _entities } = await gql(
      services[subgraph].url,
      entitiesQuery(type, selection),
      { representations: [{ __typename: type, id: ids[key] }, { __typename: type, id: `${ids[key]}_missing` }, { __typename: type, id: ids[key] }] },
      { sandbox },
    );
    expect(_entities).toEqual([expected(ids[key]), null, expected(ids[key])]);
  });

  it('account contributes Profile.account and Profile.accounts to the profile entity', async () => {
    const { _entities } = await gql(
      services.account.url,
      entitiesQuery('Profile', 'id account { id name } accounts { isPrimary account { id } }'),
      { representations: [{ __typename: 'Profile', id: ids.profile }] },
      { sandbox },
    );
    expect(_entities).toEqual([{ id: ids.profile, account: { id: ids.account, name: 'Acme' }, accounts: [{ isPrimary: false, account: { id: ids.account } }] }]);
  });

  it.each(cases)('$subgraph answers malformed $type representations with BAD_USER_INPUT', async ({ subgraph, type }) => {
    const malformed: unknown[] = [null, 'text', [], { id: 'x' }, { __typename: 'Nope', id: 'x' }, { __typename: type }, { __typename: type, id: { $ne: null } }];
    for (const representation of malformed) {
      const response = await postGraphQL(services[subgraph].url, entitiesQuery(type, 'id'), { representations: [representation] }, { sandbox });
      expect(response.errors?.[0].extensions?.code, JSON.stringify(representation)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toMatch(/representations\[0\]/);
    }
  });

  it.each(['profile', 'account', 'segment', 'destination'] as Name[])('%s publishes a federation v2.9 SDL', async (name) => {

    const { _service } = await gql(services[name].url, `{ _service { sdl } }`);
    expect(_service.sdl).toContain('https://specs.apollo.dev/federation/v2.9');
    expect(_service.sdl).toMatch(/@key\(fields: "id"\)/);
  });

  it.each(cases)('$type in one sandbox is invisible from another', async ({ subgraph, type, key, selection }) => {
    const { _entities } = await gql(
      services[subgraph].url,
      entitiesQuery(type, selection),
      { representations: [{ __typename: type, id: ids[key] }] },
      { sandbox: 'someone-else' },
    );
    expect(_entities).toEqual([null]);
  });

  it('lists and identity lookups are per sandbox too', async () => {
    const other = { sandbox: 'someone-else' };
    expect((await gql(services.profile.url, `{ profiles { edges { node { id } } } }`, {}, other)).profiles.edges).toEqual([]);
    expect((await gql(services.profile.url, `{ profileByIdentity(namespace: "Email", value: "ada@example.com") { id } }`, {}, other)).profileByIdentity).toBeNull();
    expect((await gql(services.account.url, `{ accounts { edges { node { id } } } }`, {}, other)).accounts.edges).toEqual([]);
    expect((await gql(services.segment.url, `{ segments { id } }`, {}, other)).segments).toEqual([]);
    expect((await gql(services.destination.url, `{ destinations { id } }`, {}, other)).destinations).toEqual([]);
    const links = await gql(services.account.url, entitiesQuery('Profile', 'account { id }'), { representations: [{ __typename: 'Profile', id: ids.profile }] }, other);
    expect(links._entities).toEqual([{ account: null }]);
    // A token for the `default` sandbox sees none of it either.
    expect((await gql(services.segment.url, `{ segments { id } }`)).segments).toEqual([]);
  });
});
