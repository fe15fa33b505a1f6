import type { CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountSubgraph } from '../../subgraphs/account/server.js';
import { gql, postGraphQL } from './support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from './support/subgraphSuite.js';

const UPSERT_ACCOUNTS = /* GraphQL */ `
  mutation($accounts: [AccountInput!]!) {
    upsertAccounts(accounts: $accounts) {
      index status error { code message }
      account { id name domain industry annualRevenue employees country type }
    }
  }
`;
const UPSERT_OPPORTUNITIES = /* GraphQL */ `
  mutation($opportunities: [OpportunityInput!]!) {
    upsertOpportunities(opportunities: $opportunities) {
      index status error { code message }
      opportunity { id name stage amount currency closeDate isClosed isWon account { id name } }
    }
  }
`;
const LINK = /* GraphQL */ `
  mutation($links: [AccountPersonLinkInput!]!) {
    linkPeopleToAccounts(links: $links) {
      index status error { code message }
      relation { id isPrimary jobRole account { id name } person { id } }
    }
  }
`;
const PROFILE_ACCOUNT = /* GraphQL */ `
  query($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Profile { id account { id name } accounts { isPrimary jobRole account { name } } }
    }
  }
`;

describe('account subgraph', () => {
  let suite: SubgraphSuite;
  const commands: CommandStartedEvent[] = [];

  beforeAll(async () => {
    suite = await startSubgraphSuite(startAccountSubgraph, { clientOptions: { monitorCommands: true } });
    suite.client.on('commandStarted', (event) => commands.push(event));
  });
  afterAll(async () => {
    await suite?.stop();
  });

  async function createAccount(sandbox: string, input: Record<string, unknown>) {
    const { upsertAccounts } = await gql(suite.url, UPSERT_ACCOUNTS, { accounts: [input] }, { sandbox });
    expect(upsertAccounts[0].status).toBe('CREATED');
    return upsertAccounts[0].account as { id: string; name: string };
  }

  it('creates accounts, then updates them by source key or id', async () => {
    const sandbox = 'accounts';
    const { upsertAccounts } = await gql(
      suite.url,
      UPSERT_ACCOUNTS,
      {
        accounts: [
          { sourceKey: '0015e00000Acme@00D5e000001XyZ.Salesforce', name: 'Acme', domain: 'https://www.Acme.example/about', industry: 'Software', annualRevenue: 2.5e8, employees: 1200, country: 'US', type: 'Customer' },
          { name: 'Globex' },
        ],
      },
      { sandbox },
    );
    expect(upsertAccounts.map((r: any) => r.status)).toEqual(['CREATED', 'CREATED']);
    const acme = upsertAccounts[0].account;
    expect(acme).toMatchObject({ name: 'Acme', domain: 'acme.example', annualRevenue: 2.5e8, employees: 1200 });
    expect(acme.id).toMatch(/^acc_/);

    const bySourceKey = await gql(suite.url, UPSERT_ACCOUNTS, { accounts: [{ sourceKey: '0015e00000Acme@00D5e000001XyZ.Salesforce', employees: 1300 }] }, { sandbox });
    expect(bySourceKey.upsertAccounts[0]).toMatchObject({ status: 'UPDATED', account: { id: acme.id, name: 'Acme', employees: 1300 } });

    const byId = await gql(suite.url, UPSERT_ACCOUNTS, { accounts: [{ id: acme.id, name: 'Acme Corp' }] }, { sandbox });
    expect(byId.upsertAccounts[0]).toMatchObject({ status: 'UPDATED', account: { id: acme.id, name: 'Acme Corp', domain: 'acme.example' } });

    const { account } = await gql(suite.url, `query($id: ID!) { account(id: $id) { name employees } }`, { id: acme.id }, { sandbox });
    expect(account).toEqual({ name: 'Acme Corp', employees: 1300 });
    const { accounts } = await gql(suite.url, `{ accounts { edges { node { name } } } }`, {}, { sandbox });
    expect(accounts.edges.map((edge: any) => edge.node.name).sort()).toEqual(['Acme Corp', 'Globex']);
  });

  it('rejects bad account records with a reason and writes nothing for them', async () => {
    const sandbox = 'badaccounts';
    await createAccount(sandbox, { name: 'Taken', domain: 'taken.example' });
    const { upsertAccounts } = await gql(
      suite.url,
      UPSERT_ACCOUNTS,
      {
        accounts: [
          { domain: 'nameless.example' },
          { name: 'Neg', employees: -3 },
          { name: 'Bad domain', domain: 'not a domain' },
          { id: 'acc_missing', name: 'Ghost' },
          { name: 'Ok' },
        ],
      },
      { sandbox },
    );
    expect(upsertAccounts.map((r: any) => [r.status, r.error?.code ?? null])).toEqual([
      ['REJECTED', 'BAD_USER_INPUT'],
      ['REJECTED', 'BAD_USER_INPUT'],
      ['REJECTED', 'BAD_USER_INPUT'],
      ['REJECTED', 'NOT_FOUND'],
      ['CREATED', null],
    ]);
    expect(upsertAccounts[0].error.message).toMatch(/name is required/);
    expect(upsertAccounts[1].error.message).toMatch(/employees/);
    expect(await suite.databases.sandbox(sandbox).collection('accounts').countDocuments()).toBe(2);
  });

  it('creates and updates opportunities under an existing account', async () => {
    const sandbox = 'opps';
    const acme = await createAccount(sandbox, { name: 'Acme' });
    const created = await gql(
      suite.url,
      UPSERT_OPPORTUNITIES,
      {
        opportunities: [
          { accountId: acme.id, name: 'Renewal 2026', stage: 'Negotiation', amount: 50000, currency: 'usd', closeDate: '2026-03-31' },
          { accountId: 'acc_missing', name: 'Orphan' },
          { accountId: acme.id },
        ],
      },
      { sandbox },
    );
    const [ok, orphan, nameless] = created.upsertOpportunities;
    expect(ok).toMatchObject({
      status: 'CREATED',
      opportunity: { name: 'Renewal 2026', stage: 'Negotiation', amount: 50000, currency: 'USD', closeDate: '2026-03-31T00:00:00.000Z', account: { id: acme.id, name: 'Acme' } },
    });
    expect(orphan).toMatchObject({ status: 'REJECTED', error: { code: 'NOT_FOUND' } });
    expect(nameless).toMatchObject({ status: 'REJECTED', error: { code: 'BAD_USER_INPUT' } });

    const updated = await gql(
      suite.url,
      UPSERT_OPPORTUNITIES,
      { opportunities: [{ id: ok.opportunity.id, stage: 'Closed Won', isClosed: true, isWon: true }] },
      { sandbox },
    );
    expect(updated.upsertOpportunities[0]).toMatchObject({
      status: 'UPDATED',
      opportunity: { id: ok.opportunity.id, name: 'Renewal 2026', stage: 'Closed Won', isClosed: true, isWon: true },
    });
    const { account } = await gql(suite.url, `query($id: ID!) { account(id: $id) { opportunities { name stage } } }`, { id: acme.id }, { sandbox });
    expect(account.opportunities).toEqual([{ name: 'Renewal 2026', stage: 'Closed Won' }]);
  });

  it('links people to accounts and resolves Profile.account as the primary (or only) account', async () => {
    const sandbox = 'links';
    const acme = await createAccount(sandbox, { name: 'Acme' });
    const globex = await createAccount(sandbox, { name: 'Globex' });

    const { linkPeopleToAccounts } = await gql(
      suite.url,
      LINK,
      {
        links: [
          { personId: 'prof_only', accountId: acme.id, jobRole: 'Champion' },
          { personId: 'prof_two', accountId: acme.id },
          { personId: 'prof_two', accountId: globex.id, isPrimary: true, jobRole: 'Decision Maker' },
          { personId: 'prof_none', accountId: 'acc_missing' },
        ],
      },
      { sandbox },
    );
    expect(linkPeopleToAccounts.map((r: any) => r.status)).toEqual(['CREATED', 'CREATED', 'CREATED', 'REJECTED']);
    expect(linkPeopleToAccounts[0].relation).toMatchObject({ isPrimary: false, jobRole: 'Champion', account: { name: 'Acme' }, person: { id: 'prof_only' } });
    expect(linkPeopleToAccounts[3].error.code).toBe('NOT_FOUND');

    const reps = ['prof_only', 'prof_two', 'prof_unlinked'].map((id) => ({ __typename: 'Profile', id }));
    let { _entities } = await gql(suite.url, PROFILE_ACCOUNT, { representations: reps }, { sandbox });
    expect(_entities[0].account).toEqual({ id: acme.id, name: 'Acme' });
    expect(_entities[1].account).toEqual({ id: globex.id, name: 'Globex' });
    expect(_entities[1].accounts).toHaveLength(2);
    expect(_entities[2]).toEqual({ id: 'prof_unlinked', account: null, accounts: [] });

    // Making Acme primary for prof_two moves the primary flag; re-linking updates in place.
    const relink = await gql(suite.url, LINK, { links: [{ personId: 'prof_two', accountId: acme.id, isPrimary: true }] }, { sandbox });
    expect(relink.linkPeopleToAccounts[0]).toMatchObject({ status: 'UPDATED', relation: { isPrimary: true } });
    ({ _entities } = await gql(suite.url, PROFILE_ACCOUNT, { representations: reps }, { sandbox }));
    expect(_entities[1].account.name).toBe('Acme');
    expect(_entities[1].accounts.filter((a: any) => a.isPrimary).map((a: any) => a.account.name)).toEqual(['Acme']);

    const { account } = await gql(suite.url, `query($id: ID!) { account(id: $id) { people { person { id } isPrimary } } }`, { id: acme.id }, { sandbox });
    expect(account.people.map((p: any) => p.person.id).sort()).toEqual(['prof_only', 'prof_two']);
  });

  it('resolves Profile.account for 50 profiles with one MongoDB query', async () => {
    const sandbox = 'batching';
    const { upsertAccounts } = await gql(
      suite.url,
      UPSERT_ACCOUNTS,
      { accounts: Array.from({ length: 5 }, (_, i) => ({ name: `Account ${i}` })) },
      { sandbox },
    );
    const personIds = Array.from({ length: 50 }, (_, i) => `prof_batch${String(i).padStart(2, '0')}`);
    await gql(
      suite.url,
      LINK,
      { links: personIds.map((personId, i) => ({ personId, accountId: upsertAccounts[i % 5].account.id, isPrimary: true })) },
      { sandbox },
    );

    commands.length = 0;
    const { _entities } = await gql(
      suite.url,
      `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Profile { id account { name } } } }`,
      { representations: personIds.map((id) => ({ __typename: 'Profile', id })) },
      { sandbox },
    );
    expect(_entities).toHaveLength(50);
    expect(_entities.map((e: any) => e.account.name)).toEqual(personIds.map((_, i) => `Account ${i % 5}`));
    const queries = commands.filter((c) => ['find', 'aggregate'].includes(c.commandName));
    expect(queries).toHaveLength(1);
  });

  it('validates link input', async () => {
    const response = await postGraphQL(suite.url, LINK, { links: [{ personId: '  ', accountId: 'acc_x' }] }, { sandbox: 'linkinput' });
    expect(response.data?.linkPeopleToAccounts[0]).toMatchObject({ status: 'REJECTED', error: { code: 'BAD_USER_INPUT' } });
  });
});
