/**
 * Through the gateway: one query resolved across the profile and account
 * subgraphs, sandboxes kept apart, and /healthz.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { uniqueName } from '../support/mongo.js';

let platform: TestPlatform;

const UPSERT_PEOPLE = /* GraphQL */ `
  mutation ($people: [PersonInput!]!) {
    upsertPeople(people: $people) { index status profile { id } error { code message } }
  }
`;
const UPSERT_ACCOUNTS = /* GraphQL */ `
  mutation ($accounts: [AccountInput!]!) {
    upsertAccounts(accounts: $accounts) { index status account { id } error { code message } }
  }
`;
const LINK = /* GraphQL */ `
  mutation ($links: [AccountPersonLinkInput!]!) {
    linkPeopleToAccounts(links: $links) { index status error { code message } }
  }
`;
const PROFILE_WITH_ACCOUNT = /* GraphQL */ `
  query ($id: ID!) {
    profile(id: $id) { id firstName account { name } }
  }
`;

async function createPerson(sandbox: string, person: Record<string, unknown>): Promise<string> {
  const result = await platform.query(UPSERT_PEOPLE, { people: [person] }, { sandbox });
  expect(result.errors).toBeUndefined();
  expect(result.data.upsertPeople[0]).toMatchObject({ status: 'CREATED', error: null });
  return result.data.upsertPeople[0].profile.id;
}

async function createAccount(sandbox: string, account: Record<string, unknown>): Promise<string> {
  const result = await platform.query(UPSERT_ACCOUNTS, { accounts: [account] }, { sandbox });
  expect(result.errors).toBeUndefined();
  expect(result.data.upsertAccounts[0]).toMatchObject({ status: 'CREATED', error: null });
  return result.data.upsertAccounts[0].account.id;
}

describe('federation through the gateway', () => {
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('creates a person and an account, links them, and reads both in one query', async () => {
    const sandbox = uniqueName('fed-');
    const personId = await createPerson(sandbox, { firstName: 'Ada', lastName: 'Lovelace', workEmail: 'ada@engines.example' });
    const accountId = await createAccount(sandbox, { name: 'Analytical Engines', domain: 'engines.example' });

    const linked = await platform.query(LINK, { links: [{ personId, accountId, isPrimary: true }] }, { sandbox });
    expect(linked.errors).toBeUndefined();
    expect(linked.data.linkPeopleToAccounts).toEqual([{ index: 0, status: 'CREATED', error: null }]);

    const result = await platform.query(PROFILE_WITH_ACCOUNT, { id: personId }, { sandbox });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ profile: { id: personId, firstName: 'Ada', account: { name: 'Analytical Engines' } } });
  });

  it('keeps sandboxes apart: what one sandbox writes, another cannot read', async () => {
    const a = uniqueName('iso-a-');
    const b = uniqueName('iso-b-');
    const personId = await createPerson(a, { firstName: 'Grace', workEmail: 'grace@navy.example' });
    const accountId = await createAccount(a, { name: 'Navy', domain: 'navy.example' });
    await platform.query(LINK, { links: [{ personId, accountId, isPrimary: true }] }, { sandbox: a });

    const inA = await platform.query(PROFILE_WITH_ACCOUNT, { id: personId }, { sandbox: a });
    expect(inA.data.profile).toEqual({ id: personId, firstName: 'Grace', account: { name: 'Navy' } });

    const inB = await platform.query(PROFILE_WITH_ACCOUNT, { id: personId }, { sandbox: b });
    expect(inB.errors).toBeUndefined();
    expect(inB.data.profile).toBeNull();
    const accountInB = await platform.query('query ($id: ID!) { account(id: $id) { name } }', { id: accountId }, { sandbox: b });
    expect(accountInB.data.account).toBeNull();

    // The same person written to b is a different profile there, with no account.
    const otherId = await createPerson(b, { firstName: 'Grace (b)', workEmail: 'grace@navy.example' });
    const again = await platform.query(PROFILE_WITH_ACCOUNT, { id: otherId }, { sandbox: b });
    expect(again.data.profile).toEqual({ id: otherId, firstName: 'Grace (b)', account: null });
    const stillA = await platform.query(PROFILE_WITH_ACCOUNT, { id: personId }, { sandbox: a });
    expect(stillA.data.profile.firstName).toBe('Grace');
  });

  it('refuses an invalid sandbox name with INVALID_SANDBOX', async () => {
    const result = await platform.query(PROFILE_WITH_ACCOUNT, { id: 'x' }, { sandbox: 'Bad Sandbox' });
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_SANDBOX']);
    expect(result.data ?? null).toBeNull();
  });
});

describe('/healthz', () => {
  // A platform of its own: the test stops one of its subgraphs.
  let stopping: TestPlatform;
  beforeAll(async () => {
    stopping = await startTestPlatform();
  });
  afterAll(async () => {
    await stopping?.stop();
  });

  const healthz = async () => {
    const response = await fetch(new URL('/healthz', stopping.gatewayUrl));
    return { status: response.status, body: (await response.json()) as { status: string; failed: string[] } };
  };

  it('answers 200 while every subgraph answers, 503 naming the one that stopped', async () => {
    expect(await healthz()).toMatchObject({ status: 200, body: { status: 'ok', failed: [] } });
    await stopping.subgraphs.destination.stop();
    expect(await healthz()).toMatchObject({ status: 503, body: { status: 'unavailable', failed: ['destination'] } });
  });
});
