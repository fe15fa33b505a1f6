/** Account.people, Account.opportunities and Opportunity.contacts return at most `first` rows, one query per batch. */
import type { CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_CONTACTS, LINK, startAccountSuite, UPSERT_ACCOUNTS, UPSERT_OPPORTUNITIES, type AccountSuite } from './support.js';

const SANDBOX = 'bounded';
const ORG = '00D5e000009XyZ';
const commands: CommandStartedEvent[] = [];
let t: AccountSuite;
let accountIds: string[];
let opportunityId: string;

beforeAll(async () => {
  t = await startAccountSuite(SANDBOX, { clientOptions: { monitorCommands: true } });
  t.suite.client.on('commandStarted', (event) => commands.push(event));
  const { upsertAccounts } = await t.run(UPSERT_ACCOUNTS, {
    accounts: ['Big', 'Other'].map((name) => ({ name, sourceKey: `${name}@${ORG}.Salesforce` })),
  });
  accountIds = upsertAccounts.map((r: any) => r.account.id);
  // 120 people and 120 opportunities on each account; 120 contacts on the first opportunity.
  for (const id of accountIds) {
    await t.run(LINK, { links: Array.from({ length: 120 }, (_, i) => ({ accountId: id, personId: `prof_${i}` })) });
  }
  const { upsertOpportunities } = await t.run(UPSERT_OPPORTUNITIES, {
    opportunities: accountIds.flatMap((id, a) => Array.from({ length: 120 }, (_, i) => ({ accountId: id, name: `Deal ${a}-${i}` }))),
  });
  opportunityId = upsertOpportunities[0].opportunity.id;
  await t.run(ADD_CONTACTS, { contacts: Array.from({ length: 120 }, (_, i) => ({ opportunityId, personId: `prof_${i}`, role: 'Influencer' })) });
});
afterAll(async () => {
  await t?.suite.stop();
});

const ACCOUNTS = /* GraphQL */ `
  query($first: Int, $opps: Int) {
    accounts(first: 10) { edges { node { id people(first: $first) { personKey } opportunities(first: $opps) { name contacts(first: $first) { personKey } } } } }
  }
`;

describe('bounded lists on accounts and opportunities', () => {
  it('returns 100 by default, oldest first, and `first` when given, with one query per list for the whole page', async () => {
    commands.length = 0;
    const { accounts } = await t.run(ACCOUNTS, { opps: 3 });
    const nodes = accounts.edges.map((edge: any) => edge.node);
    expect(nodes.map((node: any) => node.people.length)).toEqual([100, 100]);
    expect(nodes[0].people.slice(0, 2).map((p: any) => p.personKey)).toEqual(['id:prof_0', 'id:prof_1']);
    expect(nodes.map((node: any) => node.opportunities.map((o: any) => o.name))).toEqual([
      ['Deal 0-0', 'Deal 0-1', 'Deal 0-2'],
      ['Deal 1-0', 'Deal 1-1', 'Deal 1-2'],
    ]);
    expect(nodes[0].opportunities[0].contacts).toHaveLength(100);
    const reads = commands.filter((c) => ['find', 'aggregate'].includes(c.commandName)).map((c) => c.commandName);
    // accounts page, then one query each for people, opportunities and contacts.
    expect(reads).toEqual(['find', 'aggregate', 'aggregate', 'aggregate']);

    const { account } = await t.run('query($id: ID!) { account(id: $id) { people(first: 500) { personKey } opportunities(first: 7) { id } } }', { id: accountIds[0] });
    expect(account.people).toHaveLength(120);
    expect(account.opportunities).toHaveLength(7);
    const { opportunity } = await t.run('query($id: ID!) { opportunity(id: $id) { contacts(first: 5) { personKey } } }', { id: opportunityId });
    expect(opportunity.contacts.map((c: any) => c.personKey)).toEqual(['id:prof_0', 'id:prof_1', 'id:prof_2', 'id:prof_3', 'id:prof_4']);
  });

  it('refuses `first` outside 1 to 500 with BAD_USER_INPUT', async () => {
    for (const [field, first] of [['people', 501], ['opportunities', 0], ['people', -1]] as const) {
      const response = await t.post(`query($id: ID!, $first: Int) { account(id: $id) { ${field}(first: $first) { __typename } } }`, { id: accountIds[0], first });
      expect(response.errors?.[0]?.extensions?.code, `${field}(first: ${first})`).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toMatch(/first must be an integer from 1 to 500/);
    }
    const contacts = await t.post('query($id: ID!) { opportunity(id: $id) { contacts(first: 1000) { personKey } } }', { id: opportunityId });
    expect(contacts.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
