/**
 * Relation conditions, the primary account and `inSegment` on the pipeline back end: events
 * found through every identity key, accounts and opportunities through every link key, one
 * element per related record (the preferred link speaks for it), links to records that are gone
 * left out, and memberships counted only while current.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { Data, NOW, daysAgo, openPipelineSuite, pipelineMembers, predicateMembers, type PipelineSuite } from './support.js';

let suite: PipelineSuite;

beforeAll(async () => {
  suite = await openPipelineSuite('relations');
  const data = new Data(suite.db);
  await data.account('acme', { annualRevenue: 200_000_000, industry: 'Software', country: 'US' });
  await data.account('tiny', { annualRevenue: 5_000_000, industry: 'Retail' });
  await data.account('orphan', { annualRevenue: 1 });
  await data.opportunity('acme-open', 'acme', { stage: 'Negotiation', amount: 50_000 });
  await data.opportunity('acme-won', 'acme', { stage: 'Closed Won' });
  await data.opportunity('tiny-lost', 'tiny', { stage: 'Closed Lost' });

  await data.person('ann', { country: 'US' }, { sourceKeys: ['sk-ann'], identityKeys: ['Email:ann', 'ECID:ann'] });
  // The same account under two of ann's keys: the primary link speaks for it, though the other is newer.
  await data.link('rel1', 'acme', 'id:ann', { isPrimary: true, jobRole: 'Champion', updatedAt: daysAgo(1) });
  await data.link('rel2', 'acme', 'b2b_person:sk-ann', { isPrimary: false, jobRole: 'End User', updatedAt: NOW });
  await data.link('rel3', 'tiny', 'id:ann', { jobRole: 'Influencer' });
  await data.contact('con1', 'acme-open', 'b2b_person:sk-ann', { role: 'Decision Maker' });
  await data.contact('con2', 'acme-won', 'id:ann', { role: 'Influencer' });
  await data.event('e1', 'Email:ann', 'web.pageView', daysAgo(2), { url: '/pricing' });
  await data.event('e2', 'ECID:ann', 'web.pageView', daysAgo(10), { url: '/pricing' });
  await data.event('e3', 'ECID:ann', 'email.open', daysAgo(40));
  await data.membership('vip', 'ann', 'PERSON', 'realized');
  await data.membership('old', 'ann', 'PERSON', 'exited');

  await data.person('ben');
  await data.link('rel4', 'tiny', 'id:ben');
  // Primary, but its account is gone: ben has no primary account.
  await data.link('rel5', 'gone', 'id:ben', { isPrimary: true });
  await data.contact('con3', 'tiny-lost', 'id:ben', { role: 'Decision Maker' });
  await data.membership('vip', 'ben', 'PERSON', 'existing');

  await data.person('cat');
  await data.event('e4', 'Email:cat@example.com', 'form.submit', daysAgo(1));
  await data.event('e5', 'Email:nobody', 'email.open', daysAgo(1));

  await data.person('dan');
  // Two primary links: the most recently updated names the primary account.
  await data.link('rel6', 'acme', 'id:dan', { isPrimary: true, updatedAt: daysAgo(2) });
  await data.link('rel7', 'tiny', 'id:dan', { isPrimary: true, updatedAt: daysAgo(1) });

  await data.membership('key-accounts', 'acme', 'ACCOUNT', 'realized');
  await data.membership('key-accounts', 'tiny', 'ACCOUNT', 'exited');
  // A person membership with an account's id is not the account's.
  await data.membership('key-accounts', 'orphan', 'PERSON', 'realized');
}, 60_000);
afterAll(async () => {
  await suite.close();
});

const PERSON_CASES: Array<[string, string[]]> = [
  ['events.any(type = "web.pageView")', ['ann']],
  ['events.count(type = "web.pageView" and url = "/pricing") >= 2', ['ann']],
  ['events.count() = 0', ['ben', 'dan']],
  ['events.count() != 1', ['ann', 'ben', 'dan']],
  ['events.count(type = "web.pageView") < 1.5', ['ben', 'cat', 'dan']],
  ['events.count() >= -1', ['ann', 'ben', 'cat', 'dan']],
  ['events.all(type = "web.pageView")', ['ben', 'dan']],
  ['events.all()', ['ann', 'ben', 'cat', 'dan']],
  ['events.none(type = "email.open")', ['ben', 'cat', 'dan']],
  ['events.any(timestamp occurs <= 7 days before now)', ['ann', 'cat']],
  ['events.any()', ['ann', 'cat']],
  ['events.none()', ['ben', 'dan']],
  ['accounts.count() = 2', ['ann', 'dan']],
  ['accounts.any(id = "acme" and isPrimary = true and jobRole = "Champion")', ['ann']],
  ['accounts.any(jobRole = "End User")', []],
  ['accounts.any(not exists(jobRole))', ['ben', 'dan']],
  ['accounts.all(annualRevenue >= 100000000)', ['cat']],
  ['account.annualRevenue >= 100000000', ['ann']],
  ['account.industry = "Retail"', ['dan']],
  ['exists(account)', ['ann', 'dan']],
  ['account.id = "acme"', ['ann']],
  ['account.annualRevenue != 1', ['ann', 'dan']],
  ['opportunities.any(role = "Decision Maker" and stage notIn ["Closed Won", "Closed Lost"])', ['ann']],
  ['opportunities.count(isPrimary = false) >= 2', ['ann']],
  ['opportunities.any(amount > 10000 and accountId = "acme")', ['ann']],
  ['inSegment("vip")', ['ann', 'ben']],
  ['inSegment("old")', []],
  ['not inSegment("vip")', ['cat', 'dan']],
];

const ACCOUNT_CASES: Array<[string, string[]]> = [
  ['people.count() >= 2', ['acme', 'tiny']],
  ['people.count() = 3', ['tiny']],
  ['people.all(isPrimary = true)', ['acme', 'orphan']],
  ['people.any(jobRole = "End User")', []],
  ['people.any(jobRole = "Champion" and country = "US")', ['acme']],
  ['people.any(events.any(type = "email.open"))', ['acme', 'tiny']],
  ['people.count(events.count() = 0) >= 2', ['tiny']],
  ['people.count(inSegment("vip")) >= 2', ['tiny']],
  ['opportunities.none(stage = "Closed Won")', ['orphan', 'tiny']],
  ['opportunities.count() = 2', ['acme']],
  ['inSegment("key-accounts")', ['acme']],
  ['annualRevenue >= 5000000 and not people.any(country = "US")', []],
];

async function expectCases(target: TargetEntity, cases: Array<[string, string[]]>): Promise<void> {
  for (const [expression, members] of cases) expect(await pipelineMembers(suite.db, expression, target), expression).toEqual(members);
}

describe('relations on a person', () => {
  it('counts events, accounts and opportunities as the semantics say', () => expectCases('PERSON', PERSON_CASES));
});

describe('relations on an account', () => {
  it('counts people (primary or not, each once) and opportunities', () => expectCases('ACCOUNT', ACCOUNT_CASES));
});

describe('the compiled predicate over loadMembers', () => {
  it('agrees on every case', async () => {
    for (const [target, cases, ids] of [
      ['PERSON', PERSON_CASES, ['ann', 'ben', 'cat', 'dan']],
      ['ACCOUNT', ACCOUNT_CASES, ['acme', 'orphan', 'tiny']],
    ] as const) {
      for (const [expression] of cases) {
        expect(await predicateMembers(suite.db, expression, target, ids), expression).toEqual(await pipelineMembers(suite.db, expression, target));
      }
    }
  });
});
