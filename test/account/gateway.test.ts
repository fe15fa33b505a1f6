/**
 * Through the gateway: links made by source key before or after the people exist show up on
 * their profiles (the gateway fetches Profile.linkKeys from the profile subgraph for the
 * account subgraph), and a profile merged from two sources sees both people's accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const ORG = '00D5e000001XyZ';
const MARKETO = '123-ABC-456';
let platform: TestPlatform;
const sandbox = uniqueName('acctgw-');

async function run(query: string, variables: Record<string, unknown> = {}) {
  const result = await platform.query(query, variables, { sandbox });
  expect(result.errors).toBeUndefined();
  return result.data;
}

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

describe('B2B relations through the gateway', () => {
  it('shows accounts and opportunities linked by person source key on the merged profile', async () => {
    const lead = `1234@${MARKETO}.Marketo`;
    const contact = `0035e00000Ada@${ORG}.Salesforce`;
    await run(
      'mutation ($a: [AccountInput!]!) { upsertAccounts(accounts: $a) { status } }',
      { a: [{ sourceKey: `Acme@${ORG}.Salesforce`, name: 'Acme' }, { sourceKey: `Globex@${ORG}.Salesforce`, name: 'Globex' }] },
    );
    await run('mutation ($o: [OpportunityInput!]!) { upsertOpportunities(opportunities: $o) { status } }', {
      o: [{ sourceKey: `Deal@${ORG}.Salesforce`, accountSourceKey: `Acme@${ORG}.Salesforce`, name: 'Renewal' }],
    });
    // Linked before either person exists.
    const links = await run('mutation ($l: [AccountPersonLinkInput!]!) { linkPeopleToAccounts(links: $l) { status } }', {
      l: [
        { personSourceKey: contact, accountSourceKey: `Acme@${ORG}.Salesforce`, isPrimary: true, jobRole: 'CTO' },
        { personSourceKey: lead, accountSourceKey: `Globex@${ORG}.Salesforce` },
      ],
    });
    expect(links.linkPeopleToAccounts.map((r: any) => r.status)).toEqual(['CREATED', 'CREATED']);
    await run('mutation ($c: [OpportunityContactInput!]!) { addOpportunityContacts(contacts: $c) { status } }', {
      c: [{ opportunitySourceKey: `Deal@${ORG}.Salesforce`, personSourceKey: contact, role: 'Decision Maker', isPrimary: true }],
    });

    const people = await run('mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { status profile { id } } }', {
      p: [
        { sourceKey: lead, firstName: 'Ada', workEmail: 'ada@acme.example' },
        { sourceKey: contact, lastName: 'Lovelace', workEmail: 'ADA@acme.example ' },
      ],
    });
    const profileId: string = people.upsertPeople[1].profile.id;
    const { profile } = await run(
      `query ($id: ID!) { profile(id: $id) {
        account { name }
        accounts { isPrimary jobRole account { name } }
        opportunities { role isPrimary opportunity { name account { name } } }
      } }`,
      { id: profileId },
    );
    expect(profile.account).toEqual({ name: 'Acme' });
    expect(profile.accounts).toEqual([
      { isPrimary: true, jobRole: 'CTO', account: { name: 'Acme' } },
      { isPrimary: false, jobRole: null, account: { name: 'Globex' } },
    ]);
    expect(profile.opportunities).toEqual([{ role: 'Decision Maker', isPrimary: true, opportunity: { name: 'Renewal', account: { name: 'Acme' } } }]);

    const { accounts } = await run('{ accounts(first: 10) { edges { node { name people { personKey } } } pageInfo { hasNextPage } } }');
    expect(accounts.edges.map((edge: any) => edge.node.name).sort()).toEqual(['Acme', 'Globex']);
    expect(accounts.pageInfo.hasNextPage).toBe(false);
  });
});
