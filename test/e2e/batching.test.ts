/**
 * N+1 guard: 50 profiles read with their accounts through the gateway cost the
 * account subgraph one fetch from the gateway and one MongoDB query.
 */
import type { CommandStartedEvent, MongoClient } from 'mongodb';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const PEOPLE = 50;

let platform: TestPlatform;
let accountClient: MongoClient;
const sandbox = uniqueName('batch-');
/** URLs of every fetch the gateway made to a subgraph. */
const fetches: string[] = [];
/** Reads the account subgraph ran on MongoDB. */
const reads: CommandStartedEvent[] = [];
let personIds: string[] = [];

const countFetches: GatewayPlugin = {
  onFetch({ url }) {
    fetches.push(url);
  },
};

beforeAll(async () => {
  accountClient = await connectTestClient({ monitorCommands: true });
  accountClient.on('commandStarted', (event: CommandStartedEvent) => {
    if (event.commandName === 'find' || event.commandName === 'aggregate') reads.push(event);
  });
  platform = await startTestPlatform({
    clientFor: (subgraph) => (subgraph === 'account' ? accountClient : undefined),
    gatewayPlugins: [countFetches],
  });

  const people = await platform.query(
    'mutation ($people: [PersonInput!]!) { upsertPeople(people: $people) { status profile { id } } }',
    { people: Array.from({ length: PEOPLE }, (_, i) => ({ firstName: `Person ${i}`, workEmail: `p${i}@batch.example` })) },
    { sandbox },
  );
  expect(people.errors).toBeUndefined();
  personIds = people.data.upsertPeople.map((r: { profile: { id: string } }) => r.profile.id);

  const accounts = await platform.query(
    'mutation ($accounts: [AccountInput!]!) { upsertAccounts(accounts: $accounts) { status account { id } } }',
    { accounts: Array.from({ length: PEOPLE }, (_, i) => ({ name: `Company ${i}`, domain: `c${i}.example` })) },
    { sandbox },
  );
  expect(accounts.errors).toBeUndefined();
  const accountIds: string[] = accounts.data.upsertAccounts.map((r: { account: { id: string } }) => r.account.id);

  const links = await platform.query(
    'mutation ($links: [AccountPersonLinkInput!]!) { linkPeopleToAccounts(links: $links) { status } }',
    { links: personIds.map((personId, i) => ({ personId, accountId: accountIds[i], isPrimary: true })) },
    { sandbox },
  );
  expect(links.errors).toBeUndefined();
});

afterAll(async () => {
  await platform?.stop();
  await accountClient?.close();
});

beforeEach(() => {
  fetches.length = 0;
  reads.length = 0;
});

const accountFetches = () => fetches.filter((url) => url === platform.subgraphs.account.url);

describe('batching across subgraphs', () => {
  it('50 aliased profile(id:) fields: one fetch to the account subgraph, one MongoDB query there', async () => {
    const query = `query {\n${personIds.map((id, i) => `  p${i}: profile(id: ${JSON.stringify(id)}) { firstName account { name } }`).join('\n')}\n}`;
    const result = await platform.query(query, {}, { sandbox });
    expect(result.errors).toBeUndefined();
    personIds.forEach((_, i) => expect(result.data[`p${i}`]).toEqual({ firstName: `Person ${i}`, account: { name: `Company ${i}` } }));

    expect(accountFetches()).toHaveLength(1);
    expect(reads.map((event) => event.commandName)).toHaveLength(1);
  });

  it('a list of 50 profiles: one fetch to the account subgraph, one MongoDB query there', async () => {
    const result = await platform.query('query { profiles(first: 50) { edges { node { id firstName account { name } } } } }', {}, { sandbox });
    expect(result.errors).toBeUndefined();
    expect(result.data.profiles.edges).toHaveLength(PEOPLE);
    for (const { node } of result.data.profiles.edges) expect(node.account.name).toBe(node.firstName.replace('Person', 'Company'));

    expect(accountFetches()).toHaveLength(1);
    expect(reads).toHaveLength(1);
  });
});
