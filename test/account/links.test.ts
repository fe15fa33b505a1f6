/**
 * Account-person links and opportunities with their contacts, seen from accounts,
 * opportunities and profiles (through `_entities` with the profile's linkKeys, as the
 * gateway sends them).
 */
import type { CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_CONTACTS, LINK, PROFILES, profileRep, startAccountSuite, UPSERT_ACCOUNTS, UPSERT_OPPORTUNITIES, type AccountSuite } from './support.js';

const SANDBOX = 'links';
const ORG = '00D5e000001XyZ';
let t: AccountSuite;
const commands: CommandStartedEvent[] = [];

beforeAll(async () => {
  t = await startAccountSuite(SANDBOX, { clientOptions: { monitorCommands: true } });
  t.suite.client.on('commandStarted', (event: CommandStartedEvent) => commands.push(event));
});
afterAll(async () => {
  await t?.suite.stop();
});

async function accounts(...names: string[]): Promise<{ id: string; sourceKey: string }[]> {
  const records = names.map((name) => ({ name, sourceKey: `${name}@${ORG}.Salesforce` }));
  const { upsertAccounts } = await t.run(UPSERT_ACCOUNTS, { accounts: records });
  return upsertAccounts.map((r: any, i: number) => ({ id: r.account.id, sourceKey: records[i]!.sourceKey }));
}
const link = async (links: Record<string, unknown>[]) => (await t.run(LINK, { links })).linkPeopleToAccounts as any[];
const contacts = async (items: Record<string, unknown>[]) => (await t.run(ADD_CONTACTS, { contacts: items })).addOpportunityContacts as any[];
const profiles = async (reps: ReturnType<typeof profileRep>[]) => (await t.run(PROFILES, { representations: reps }))._entities as any[];

describe('linkPeopleToAccounts', () => {
  it('links by profile id or person source key, idempotently, with NOT_FOUND for unknown accounts', async () => {
    const [acme] = await accounts('LinkAcme');
    const contact = `0035e00000Ada@${ORG}.Salesforce`;
    const first = await link([
      { personId: 'prof_ada', accountId: acme!.id, jobRole: 'Champion' },
      { personSourceKey: contact, accountSourceKey: acme!.sourceKey, sourceKey: `07k5e0000001@${ORG}.Salesforce` },
      { personId: 'prof_ada', accountSourceKey: `Missing@${ORG}.Salesforce` },
      { personId: 'prof_ada', accountId: 'acc_missing' },
    ]);
    expect(first.map((r) => [r.status, r.error?.code ?? null])).toEqual([['CREATED', null], ['CREATED', null], ['REJECTED', 'NOT_FOUND'], ['REJECTED', 'NOT_FOUND']]);
    expect(first[0].relation).toMatchObject({ personKey: 'id:prof_ada', jobRole: 'Champion', isPrimary: false, person: { id: 'prof_ada' }, account: { name: 'LinkAcme' } });
    // A person named by source key has no profile id here; its profile finds the link through its linkKeys.
    expect(first[1].relation).toMatchObject({ personKey: `b2b_person:${contact}`, person: null, sourceKey: `07k5e0000001@${ORG}.Salesforce` });
    expect(first[2].error.field).toBe('accountSourceKey');

    const again = await link([{ personSourceKey: contact, accountSourceKey: acme!.sourceKey, jobRole: 'Buyer' }]);
    expect(again[0]).toMatchObject({ status: 'UPDATED', relation: { id: first[1].relation.id, jobRole: 'Buyer', sourceKey: `07k5e0000001@${ORG}.Salesforce` } });
    const { account } = await t.run('query($id: ID!) { account(id: $id) { people { personKey jobRole } } }', { id: acme!.id });
    expect(account.people).toEqual([
      { personKey: 'id:prof_ada', jobRole: 'Champion' },
      { personKey: `b2b_person:${contact}`, jobRole: 'Buyer' },
    ]);
  });

  it('rejects links without a person, with two people, or without an account', async () => {
    const [acme] = await accounts('BadLinks');
    const results = await link([
      { accountId: acme!.id },
      { personId: 'prof_x', personSourceKey: `1@${ORG}.Salesforce`, accountId: acme!.id },
      { personId: '  ', accountId: acme!.id },
      { personId: 'prof_x' },
      { personSourceKey: 'not-a-key', accountId: acme!.id },
    ]);
    expect(results.map((r) => [r.status, r.error?.code, r.error?.field])).toEqual([
      ['REJECTED', 'BAD_USER_INPUT', 'personId'],
      ['REJECTED', 'BAD_USER_INPUT', 'personSourceKey'],
      ['REJECTED', 'BAD_USER_INPUT', 'personId'],
      ['REJECTED', 'BAD_USER_INPUT', 'accountId'],
      ['REJECTED', 'BAD_USER_INPUT', 'personSourceKey'],
    ]);
    expect(await t.suite.databases.sandbox(SANDBOX).collection('accountPersonRelations').countDocuments({ accountId: acme!.id })).toBe(0);
  });

  it('keeps one primary account per person key: marking a link primary clears the others', async () => {
    const [acme, globex, initech] = await accounts('PrimAcme', 'PrimGlobex', 'PrimInitech');
    await link([
      { personId: 'prof_only', accountId: acme!.id },
      { personId: 'prof_two', accountId: acme!.id },
      { personId: 'prof_two', accountId: globex!.id, isPrimary: true },
    ]);
    let [only, two, none] = await profiles([profileRep('prof_only'), profileRep('prof_two'), profileRep('prof_none')]);
    expect(only.account).toEqual({ id: acme!.id, name: 'PrimAcme' });
    expect(two.account.name).toBe('PrimGlobex');
    expect(two.accounts.map((a: any) => [a.account.name, a.isPrimary])).toEqual([['PrimGlobex', true], ['PrimAcme', false]]);
    expect(none).toEqual({ id: 'prof_none', account: null, accounts: [], opportunities: [] });

    // Within one call too: the last link marked primary wins.
    await link([
      { personId: 'prof_two', accountId: acme!.id, isPrimary: true },
      { personId: 'prof_two', accountId: initech!.id, isPrimary: true },
    ]);
    [two] = await profiles([profileRep('prof_two')]);
    expect(two.account.name).toBe('PrimInitech');
    expect(two.accounts.filter((a: any) => a.isPrimary).map((a: any) => a.account.name)).toEqual(['PrimInitech']);

    // Leaving isPrimary out keeps it; setting it false leaves no primary: two links, so no single account.
    await link([{ personId: 'prof_two', accountId: initech!.id, jobRole: 'CTO' }]);
    [two] = await profiles([profileRep('prof_two')]);
    expect(two.account.name).toBe('PrimInitech');
    await link([{ personId: 'prof_two', accountId: initech!.id, isPrimary: false }]);
    [two] = await profiles([profileRep('prof_two')]);
    expect(two.account).toBeNull();
    expect(two.accounts).toHaveLength(3);
  });

  it('shows links made by person source key on the profile whose linkKeys include it, so a merged profile sees both people', async () => {
    const [acme, globex] = await accounts('MergeAcme', 'MergeGlobex');
    const lead = `1234@123-ABC-456.Marketo`;
    const contact = `0035e00000Bob@${ORG}.Salesforce`;
    await link([
      { personSourceKey: lead, accountSourceKey: acme!.sourceKey, jobRole: 'Marketing' },
      { personSourceKey: contact, accountSourceKey: globex!.sourceKey, isPrimary: true },
      // Both sources link the same person to Acme: the profile lists Acme once.
      { personSourceKey: contact, accountSourceKey: acme!.sourceKey },
    ]);
    const [marketoOnly, salesforceOnly, merged] = await profiles([
      profileRep('prof_m', ['id:prof_m', `b2b_person:${lead}`]),
      profileRep('prof_s', ['id:prof_s', `b2b_person:${contact}`]),
      profileRep('prof_m', ['id:prof_m', 'id:prof_s', `b2b_person:${lead}`, `b2b_person:${contact}`]),
    ]);
    expect(marketoOnly.account.name).toBe('MergeAcme');
    expect(salesforceOnly.accounts.map((a: any) => a.account.name)).toEqual(['MergeGlobex', 'MergeAcme']);
    expect(merged.account.name).toBe('MergeGlobex');
    expect(merged.accounts.map((a: any) => a.account.name)).toEqual(['MergeGlobex', 'MergeAcme']);

    // A representation without linkKeys (a caller other than the gateway) sees the links of its id only.
    const [byIdOnly] = await profiles([{ __typename: 'Profile', id: 'prof_m' } as any]);
    expect(byIdOnly.accounts).toEqual([]);
    const malformed = await t.post(PROFILES, { representations: [{ __typename: 'Profile', id: 'prof_m', linkKeys: [{ $ne: null }] }] });
    expect(malformed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('resolves account and accounts for 50 profiles with one MongoDB query', async () => {
    const batch = await accounts(...Array.from({ length: 5 }, (_, i) => `Batch${i}`));
    const people = Array.from({ length: 50 }, (_, i) => `${i}@777-BAT-777.Marketo`);
    await link(people.map((personSourceKey, i) => ({ personSourceKey, accountId: batch[i % 5]!.id, isPrimary: true })));

    commands.length = 0;
    const result = await profiles(people.map((key, i) => profileRep(`prof_b${i}`, [`id:prof_b${i}`, `b2b_person:${key}`])));
    expect(result.map((p) => p.account.name)).toEqual(people.map((_, i) => `Batch${i % 5}`));
    expect(result.map((p) => p.accounts.length)).toEqual(people.map(() => 1));
    const reads = commands.filter((c) => ['find', 'aggregate'].includes(c.commandName));
    // One aggregate for account/accounts, one for opportunities.
    expect(reads.map((c) => (c.command as any).aggregate)).toEqual(['accountPersonRelations', 'opportunityContacts']);
  });
});

describe('opportunities and their contacts', () => {
  it('creates opportunities under an account by source key, idempotently, NOT_FOUND for unknown accounts', async () => {
    const [acme] = await accounts('OppAcme');
    const key = `0065e00000Deal@${ORG}.Salesforce`;
    const record = { sourceKey: key, accountSourceKey: acme!.sourceKey, name: 'Renewal 2026', stage: 'Negotiation', amount: 50000, currency: 'usd', closeDate: '2026-03-31', isClosed: false, isWon: false, attributes: { forecast: 'Commit' } };
    const [created, orphan, nameless, noAccount] = (
      await t.run(UPSERT_OPPORTUNITIES, {
        opportunities: [record, { sourceKey: `Orphan@${ORG}.Salesforce`, accountSourceKey: `Gone@${ORG}.Salesforce`, name: 'Orphan' }, { accountId: acme!.id }, { name: 'No account' }],
      })
    ).upsertOpportunities;
    expect(created).toMatchObject({
      status: 'CREATED',
      opportunity: { name: 'Renewal 2026', currency: 'USD', closeDate: '2026-03-31T00:00:00.000Z', isClosed: false, attributes: { forecast: 'Commit' }, sourceKeys: [key], account: { id: acme!.id } },
    });
    expect(orphan).toMatchObject({ status: 'REJECTED', error: { code: 'NOT_FOUND', field: 'accountSourceKey' } });
    expect(nameless).toMatchObject({ status: 'REJECTED', error: { code: 'BAD_USER_INPUT', field: 'name' } });
    expect(noAccount).toMatchObject({ status: 'REJECTED', error: { code: 'BAD_USER_INPUT', field: 'accountId' } });

    const [won] = (await t.run(UPSERT_OPPORTUNITIES, { opportunities: [{ sourceKey: key, stage: 'Closed Won', isClosed: true, isWon: true }] })).upsertOpportunities;
    expect(won).toMatchObject({ status: 'UPDATED', opportunity: { id: created.opportunity.id, name: 'Renewal 2026', stage: 'Closed Won', isWon: true } });
    const { account } = await t.run('query($id: ID!) { account(id: $id) { opportunities { id stage } } }', { id: acme!.id });
    expect(account.opportunities).toEqual([{ id: created.opportunity.id, stage: 'Closed Won' }]);
    const bad = (await t.run(UPSERT_OPPORTUNITIES, { opportunities: [{ sourceKey: key, currency: 'dollars' }, { id: 'opp_missing', name: 'x' }] })).upsertOpportunities;
    expect(bad.map((r: any) => [r.error.code, r.error.field])).toEqual([['BAD_USER_INPUT', 'currency'], ['NOT_FOUND', 'id']]);
  });

  it('adds contacts with a role, one primary per opportunity, and shows them on profiles and opportunities', async () => {
    const [acme] = await accounts('RoleAcme');
    const opps = (
      await t.run(UPSERT_OPPORTUNITIES, {
        opportunities: [
          { sourceKey: `OppA@${ORG}.Salesforce`, accountSourceKey: acme!.sourceKey, name: 'Deal A' },
          { sourceKey: `OppB@${ORG}.Salesforce`, accountSourceKey: acme!.sourceKey, name: 'Deal B' },
        ],
      })
    ).upsertOpportunities.map((r: any) => r.opportunity);
    const contact = `0035e00000Cy@${ORG}.Salesforce`;
    const first = await contacts([
      { sourceKey: `00K1@${ORG}.Salesforce`, opportunitySourceKey: `OppA@${ORG}.Salesforce`, personSourceKey: contact, role: 'Decision Maker', isPrimary: true },
      { opportunityId: opps[0].id, personId: 'prof_dee', role: 'Influencer' },
      { opportunityId: opps[1].id, personSourceKey: contact, role: 'Economic Buyer' },
      { opportunitySourceKey: `Nope@${ORG}.Salesforce`, personId: 'prof_dee' },
    ]);
    expect(first.map((r) => [r.status, r.error?.code ?? null])).toEqual([['CREATED', null], ['CREATED', null], ['CREATED', null], ['REJECTED', 'NOT_FOUND']]);
    expect(first[0].contact).toMatchObject({ role: 'Decision Maker', isPrimary: true, personKey: `b2b_person:${contact}`, opportunity: { name: 'Deal A' } });

    const again = await contacts([{ sourceKey: `00K1@${ORG}.Salesforce`, opportunitySourceKey: `OppA@${ORG}.Salesforce`, personSourceKey: contact, role: 'Decision Maker', isPrimary: true }]);
    expect(again[0]).toMatchObject({ status: 'UPDATED', contact: { id: first[0].contact.id } });

    const [cy] = await profiles([profileRep('prof_cy', ['id:prof_cy', `b2b_person:${contact}`])]);
    expect(cy.opportunities).toEqual([
      { role: 'Decision Maker', isPrimary: true, opportunity: { id: opps[0].id, name: 'Deal A', account: { name: 'RoleAcme' } } },
      { role: 'Economic Buyer', isPrimary: false, opportunity: { id: opps[1].id, name: 'Deal B', account: { name: 'RoleAcme' } } },
    ]);

    // Making Dee primary on Deal A makes Cy no longer primary there.
    await contacts([{ opportunityId: opps[0].id, personId: 'prof_dee', isPrimary: true }]);
    const { opportunity } = await t.run('query($id: ID!) { opportunity(id: $id) { contacts { personKey role isPrimary person { id } } } }', { id: opps[0].id });
    expect(opportunity.contacts).toEqual([
      { personKey: `b2b_person:${contact}`, role: 'Decision Maker', isPrimary: false, person: null },
      { personKey: 'id:prof_dee', role: 'Influencer', isPrimary: true, person: { id: 'prof_dee' } },
    ]);
  });
});
