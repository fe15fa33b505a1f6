/**
 * Roles, enforced by the services: viewer reads (queries, `_entities`,
 * subscriptions); editor also writes data and segments; admin also manages
 * destinations. A missing role is FORBIDDEN, says which role is needed, and
 * writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, hasRole, type Role } from '../../lib/auth/roles.js';
import { gql, postGraphQL } from './support/graphql.js';
import { startAllSubgraphs, type AllSubgraphs, type SubgraphName } from './support/allSubgraphs.js';
import { createWsClient, firstOutcome } from './support/ws.js';
import { tokenFor } from './support/security.js';

const SANDBOX = 'roles';
let all: AllSubgraphs;

const call = (subgraph: SubgraphName, role: Role, query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL(all.services[subgraph].url, query, variables, { sandbox: SANDBOX, role });
const asAdmin = (subgraph: SubgraphName, query: string, variables: Record<string, unknown> = {}) =>
  gql(all.services[subgraph].url, query, variables, { sandbox: SANDBOX, role: 'admin' });

let counter = 0;
const unique = (label: string) => `${label}-${++counter}`;

async function newAccount(): Promise<string> {
  const { upsertAccounts } = await asAdmin('account', `mutation($n: String) { upsertAccounts(accounts: [{ name: $n }]) { account { id } } }`, { n: unique('Acme') });
  return upsertAccounts[0].account.id;
}
async function newSegment(): Promise<string> {
  const { createSegment } = await asAdmin('segment', `mutation($n: String!) { createSegment(input: { name: $n, expression: "exists(workEmail)", targetEntity: PERSON }) { id } }`, { n: unique('Seg') });
  return createSegment.id;
}
async function newDestination(): Promise<string> {
  const { createDestination } = await asAdmin('destination', `mutation($n: String!) { createDestination(input: { type: CLOUD_STORAGE, name: $n }) { id } }`, { n: unique('Dst') });
  return createDestination.id;
}

interface Action {
  name: string;
  needs: Role;
  subgraph: SubgraphName;
  query: string;
  /** Makes the fixtures the call needs, as admin, and returns its variables. */
  prepare?: () => Promise<Record<string, unknown>>;
}

/** Every guarded entry point and the least role it needs. */
const ACTIONS: Action[] = [
  { name: 'profiles query', needs: 'viewer', subgraph: 'profile', query: `{ profiles { edges { node { id } } } }` },
  { name: 'accounts query', needs: 'viewer', subgraph: 'account', query: `{ accounts { edges { node { id } } } }` },
  { name: 'segments query', needs: 'viewer', subgraph: 'segment', query: `{ segments { id } }` },
  { name: 'destinations query', needs: 'viewer', subgraph: 'destination', query: `{ destinations { id hasCredentials } }` },
  {
    name: '_entities',
    needs: 'viewer',
    subgraph: 'account',
    query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id name } } }`,
    prepare: async () => ({ r: [{ __typename: 'Account', id: await newAccount() }] }),
  },
  {
    name: 'upsertPeople',
    needs: 'editor',
    subgraph: 'profile',
    query: `mutation($e: String) { upsertPeople(people: [{ workEmail: $e }]) { status } }`,
    prepare: async () => ({ e: `${unique('p')}@example.com` }),
  },
  {
    name: 'upsertAccounts',
    needs: 'editor',
    subgraph: 'account',
    query: `mutation($n: String) { upsertAccounts(accounts: [{ name: $n }]) { status } }`,
    prepare: async () => ({ n: unique('A') }),
  },
  {
    name: 'upsertOpportunities',
    needs: 'editor',
    subgraph: 'account',
    query: `mutation($a: ID) { upsertOpportunities(opportunities: [{ accountId: $a, name: "Deal" }]) { status } }`,
    prepare: async () => ({ a: await newAccount() }),
  },
  {
    name: 'linkPeopleToAccounts',
    needs: 'editor',
    subgraph: 'account',
    query: `mutation($a: ID!) { linkPeopleToAccounts(links: [{ personId: "prof_x", accountId: $a }]) { status } }`,
    prepare: async () => ({ a: await newAccount() }),
  },
  {
    name: 'createSegment',
    needs: 'editor',
    subgraph: 'segment',
    query: `mutation($n: String!) { createSegment(input: { name: $n, expression: "exists(workEmail)", targetEntity: PERSON }) { id } }`,
    prepare: async () => ({ n: unique('S') }),
  },
  {
    name: 'updateSegment',
    needs: 'editor',
    subgraph: 'segment',
    query: `mutation($id: ID!) { updateSegment(id: $id, input: { name: "Renamed" }) { id } }`,
    prepare: async () => ({ id: await newSegment() }),
  },
  {
    name: 'deleteSegment',
    needs: 'editor',
    subgraph: 'segment',
    query: `mutation($id: ID!) { deleteSegment(id: $id) }`,
    prepare: async () => ({ id: await newSegment() }),
  },
  {
    name: 'createDestination',
    needs: 'admin',
    subgraph: 'destination',
    query: `mutation($n: String!) { createDestination(input: { type: CLOUD_STORAGE, name: $n, credentials: { key: "k" } }) { id } }`,
    prepare: async () => ({ n: unique('D') }),
  },
  {
    name: 'updateDestination',
    needs: 'admin',
    subgraph: 'destination',
    query: `mutation($id: ID!) { updateDestination(id: $id, input: { credentials: { key: "k2" } }) { id } }`,
    prepare: async () => ({ id: await newDestination() }),
  },
  {
    name: 'deleteDestination',
    needs: 'admin',
    subgraph: 'destination',
    query: `mutation($id: ID!) { deleteDestination(id: $id) }`,
    prepare: async () => ({ id: await newDestination() }),
  },
];

/** Every collection's documents, to prove a refused call wrote nothing. */
async function snapshot(): Promise<string> {
  const db = all.databases.sandbox(SANDBOX);
  const names = ['people', 'accounts', 'opportunities', 'accountPersonRelations', 'segments', 'destinations'];
  const contents = await Promise.all(names.map((name) => db.collection(name).find({}).sort({ _id: 1 }).toArray()));
  return JSON.stringify(contents);
}

describe('roles', () => {
  beforeAll(async () => {
    all = await startAllSubgraphs();
  });
  afterAll(async () => {
    await all?.stop();
  });

  const cases = ACTIONS.flatMap((action) => ROLES.map((role) => ({ ...action, role, allowed: hasRole({ sandbox: SANDBOX, role }, action.needs) })));

  it.each(cases.filter((c) => c.allowed))('$name as $role: allowed (needs $needs)', async ({ subgraph, query, prepare, role }) => {
    const variables = (await prepare?.()) ?? {};
    const response = await call(subgraph, role, query, variables);
    expect(response.errors).toBeUndefined();
    expect(response.data).toBeTruthy();
  });

  it.each(cases.filter((c) => !c.allowed))('$name as $role: refused (needs $needs), nothing written', async ({ subgraph, query, prepare, role, needs }) => {
    const variables = (await prepare?.()) ?? {};
    const before = await snapshot();
    const response = await call(subgraph, role, query, variables);
    expect(response.errors).toHaveLength(1);
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', details: { needed: needs, role } });
    expect(response.errors?.[0].message).toBe(`This operation needs the ${needs} role; the API key has ${role}`);
    expect(response.data ?? null).toBeNull();
    expect(await snapshot()).toBe(before);
  });

  it('lets a viewer subscribe', async () => {
    const client = createWsClient(all.services.segment.url, { headers: { 'x-cdp-gateway-token': await tokenFor(SANDBOX, 'viewer') } });
    try {
      const pending = firstOutcome(client, `subscription { segmentDefinitionChanged { kind } }`);
      // Changes made before the subscription's change stream opened are not heard: keep making them until one is.
      let settled = false;
      void pending.finally(() => (settled = true));
      await expect
        .poll(
          async () => {
            if (!settled) await newSegment();
            return settled;
          },
          { timeout: 10_000, interval: 100 },
        )
        .toBe(true);
      expect(await pending).toEqual({ kind: 'next', value: { data: { segmentDefinitionChanged: { kind: 'CREATED' } } } });
    } finally {
      await client.dispose();
    }
  });
});
