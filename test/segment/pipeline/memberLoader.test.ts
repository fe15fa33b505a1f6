/** `loadMembers`: the member documents the compiled predicate sees, and a fixed number of queries per batch. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandStartedEvent, Db, MongoClient } from 'mongodb';
import { writeB2bData } from '../../../lib/fixtures/b2bData.js';
import { loadMembers } from '../../../subgraphs/segment/evaluation/memberLoader.js';
import { memberNeeds, type MemberNeeds } from '../../../subgraphs/segment/evaluation/memberNeeds.js';
import { parseSegment, type AccountMember, type PersonMember } from '../../../subgraphs/segment/language/index.js';
import { connectTestClient } from '../../support/mongo.js';
import { Data, NOW, daysAgo, openPipelineSuite, type PipelineSuite } from './support.js';

let suite: PipelineSuite;

beforeAll(async () => {
  suite = await openPipelineSuite('loader');
  const data = new Data(suite.db);
  await data.account('acme', { annualRevenue: 200_000_000, sourceKeys: ['001@org.Salesforce'] });
  await data.account('tiny', { annualRevenue: 5_000_000 });
  await data.opportunity('deal', 'acme', { stage: 'Proposal', closeDate: daysAgo(-10) });
  await data.person('ann', { jobTitle: 'VP Sales', attributes: { tier: 'gold' } }, { sourceKeys: ['sk-ann'], identityKeys: ['Email:ann', 'ECID:ann'] });
  await data.link('rel1', 'acme', 'id:ann', { isPrimary: true, jobRole: 'Champion', updatedAt: daysAgo(1) });
  await data.link('rel2', 'acme', 'b2b_person:sk-ann', { jobRole: 'End User', updatedAt: NOW });
  await data.link('rel3', 'tiny', 'id:ann');
  await data.link('rel4', 'gone', 'id:ann', { isPrimary: true });
  await data.contact('con1', 'deal', 'b2b_person:sk-ann', { role: 'Decision Maker' });
  await data.event('e1', 'Email:ann', 'web.pageView', daysAgo(2), { url: '/pricing', identity: { namespace: 'Email', value: 'ann' } });
  await data.event('e2', 'ECID:ann', 'email.open', daysAgo(1));
  await data.membership('vip', 'ann', 'PERSON', 'realized');
  await data.membership('old', 'ann', 'PERSON', 'exited');
  await data.membership('key', 'acme', 'ACCOUNT', 'existing');
  await data.person('ben', {}, {});
  await data.link('rel5', 'tiny', 'id:ben');
}, 60_000);
afterAll(async () => {
  await suite.close();
});

describe('loadMembers', () => {
  it('builds a person with its events, deduplicated accounts, primary account, opportunities and current segments', async () => {
    const [ann, missing, ben] = (await loadMembers(suite.db, 'PERSON', ['ann', 'nobody', 'ben'])) as [PersonMember, null, PersonMember];
    expect(missing).toBeNull();
    expect(ann).toMatchObject({ id: 'ann', jobTitle: 'VP Sales', attributes: { tier: 'gold' }, segments: ['vip'] });
    expect(ann).not.toHaveProperty('linkKeys');
    expect(ann.events.map((event) => event.id).sort()).toEqual(['e1', 'e2']);
    expect(ann.events.find((event) => event.id === 'e1')).toEqual({ id: 'e1', type: 'web.pageView', timestamp: daysAgo(2), url: '/pricing' });
    expect(ann.accounts.map(({ id, isPrimary, jobRole }) => ({ id, isPrimary, jobRole })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'acme', isPrimary: true, jobRole: 'Champion' },
      { id: 'tiny', isPrimary: false, jobRole: null },
    ]);
    expect(ann.accounts.find((account) => account.id === 'acme')).toMatchObject({ annualRevenue: 200_000_000 });
    expect(ann.accounts[0]).not.toHaveProperty('sourceKeys');
    expect(ann.account).toEqual({ id: 'acme', name: 'acme', annualRevenue: 200_000_000 });
    expect(ann.opportunities).toEqual([{ id: 'deal', accountId: 'acme', name: 'deal', stage: 'Proposal', closeDate: daysAgo(-10), isPrimary: false, role: 'Decision Maker' }]);
    expect(ben).toMatchObject({ id: 'ben', events: [], account: null, segments: [] });
    expect(ben.accounts.map((account) => account.id)).toEqual(['tiny']);
  });

  it('reads only the fields, relations and events the segments can use', async () => {
    const needs = memberNeeds([parseSegment('jobTitle = "VP Sales" and events.count(type = "email.open" and timestamp occurs <= 36 hours before now) >= 1')], NOW);
    const [ann] = (await loadMembers(suite.db, 'PERSON', ['ann'], needs)) as [PersonMember];
    expect(ann).toMatchObject({ id: 'ann', jobTitle: 'VP Sales', accounts: [], opportunities: [], account: null, segments: [] });
    expect(ann).not.toHaveProperty('attributes');
    // e1 (two days ago) cannot match the window; e2 (a day ago) can.
    expect(ann.events.map((event) => event.id)).toEqual(['e2']);
  });

  it('builds an account with its people (each once, with their events and segments), opportunities and segments', async () => {
    const [acme, tiny] = (await loadMembers(suite.db, 'ACCOUNT', ['acme', 'tiny'])) as [AccountMember, AccountMember];
    expect(acme).toMatchObject({ id: 'acme', annualRevenue: 200_000_000, segments: ['key'] });
    expect(acme.opportunities.map((opportunity) => opportunity.id)).toEqual(['deal']);
    expect(acme.people).toHaveLength(1);
    expect(acme.people[0]).toMatchObject({ id: 'ann', isPrimary: true, jobRole: 'Champion', segments: ['vip'] });
    expect(acme.people[0].events).toHaveLength(2);
    expect(tiny.people.map((person) => person.id).sort()).toEqual(['ann', 'ben']);
    expect(tiny.segments).toEqual([]);
  });
});

describe('loadMembers query count', () => {
  let client: MongoClient;
  let db: Db;
  const commands: string[] = [];

  beforeAll(async () => {
    client = await connectTestClient({ monitorCommands: true });
    db = client.db(`${suite.db.databaseName}_many`);
    await writeB2bData(db, { seed: 3, now: NOW, people: 150, peoplePerAccount: 5, segmentIds: { PERSON: ['s1'], ACCOUNT: ['s2'] } });
    client.on('commandStarted', (event: CommandStartedEvent) => {
      if (event.databaseName === db.databaseName && ['find', 'aggregate'].includes(event.commandName)) commands.push(event.commandName);
    });
  }, 60_000);
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  async function queriesFor(target: 'PERSON' | 'ACCOUNT', ids: string[], needs?: MemberNeeds): Promise<number> {
    commands.length = 0;
    const members = await loadMembers(db, target, ids, needs);
    expect(members.filter((member) => member !== null)).toHaveLength(ids.length);
    return commands.length;
  }

  it('is bounded the same for one member and for a hundred', async () => {
    const people = Array.from({ length: 100 }, (_, i) => `person-${String(i).padStart(7, '0')}`);
    const accounts = Array.from({ length: 30 }, (_, i) => `account-${String(i).padStart(7, '0')}`);
    // People, their events, account links, accounts, contacts, opportunities, memberships
    // (the records of links are not asked for when there are no links).
    expect(await queriesFor('PERSON', people.slice(0, 1))).toBeLessThanOrEqual(7);
    expect(await queriesFor('PERSON', people)).toBe(7);
    // Accounts, opportunities, person links, memberships, linked people, their events, their memberships.
    expect(await queriesFor('ACCOUNT', accounts.slice(0, 1))).toBeLessThanOrEqual(7);
    expect(await queriesFor('ACCOUNT', accounts)).toBe(7);
  });

  it('asks only for what the segments read', async () => {
    const people = Array.from({ length: 100 }, (_, i) => `person-${String(i).padStart(7, '0')}`);
    const needs = (text: string) => memberNeeds([parseSegment(text)], NOW);
    // People only.
    expect(await queriesFor('PERSON', people, needs('jobTitle.contains("vp", false) and leadScore >= 40'))).toBe(1);
    // People, their events, account links, accounts.
    expect(await queriesFor('PERSON', people, needs('account.annualRevenue > 0 and events.any(type = "email.open")'))).toBe(4);
    // Accounts, person links, the linked people.
    expect(await queriesFor('ACCOUNT', ['account-0000001'], needs('people.count(jobTitle = "CTO") >= 1'))).toBe(3);
  });
});
