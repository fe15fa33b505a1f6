import { describe, expect, it } from 'vitest';
import { compilePredicate, compileSegment, explainMember, type AccountMember, type PersonMember } from '../../../subgraphs/segment/language/index.js';
import { account, accountPerson, daysAgo, event, NOW, person } from './members.js';

const VP_BUYERS = `jobTitle.contains("vp", false) and account.annualRevenue >= 100000000
  and events.count(type = "web.pageView" and url.contains("/pricing") and timestamp occurs <= 30 days before now) >= 3
  and opportunities.any(role = "Decision Maker" and stage notIn ["Closed Won", "Closed Lost"])`;

const ENGAGED_ACCOUNTS = `people.count(events.any(type = "email.open" and timestamp occurs <= 14 days before now)) >= 2
  and opportunities.none(stage = "Closed Won")`;

const pricingView = (days: number) => event('web.pageView', daysAgo(days), { url: 'https://acme.example/pricing' });

function vpBuyer(fields: Partial<PersonMember> = {}): PersonMember {
  return person({
    jobTitle: 'SVP, Sales',
    account: { id: 'acc-1', annualRevenue: 250_000_000 },
    events: [pricingView(1), pricingView(10), pricingView(30), event('web.pageView', daysAgo(2), { url: 'https://acme.example/blog' })],
    opportunities: [{ id: 'opp-1', stage: 'Negotiation', role: 'Decision Maker', isPrimary: true }],
    ...fields,
  });
}

function engagedAccount(fields: Partial<AccountMember> = {}): AccountMember {
  const opened = (days: number) => [event('email.open', daysAgo(days))];
  return account({
    people: [
      accountPerson({ id: 'p1', events: opened(3) }),
      accountPerson({ id: 'p2', isPrimary: true, events: opened(14) }),
      accountPerson({ id: 'p3', events: opened(20) }),
    ],
    opportunities: [{ id: 'o1', stage: 'Closed Lost' }],
    ...fields,
  });
}

describe("DESIGN's examples", () => {
  const vp = compileSegment(VP_BUYERS, { target: 'PERSON' });
  const accounts = compileSegment(ENGAGED_ACCOUNTS, { target: 'ACCOUNT' });
  const isVpBuyer = compilePredicate(vp.expr, 'PERSON');
  const isEngaged = compilePredicate(accounts.expr, 'ACCOUNT');

  it('parse and check, and are time dependent', () => {
    expect(vp.timeDependent).toBe(true);
    expect(accounts.timeDependent).toBe(true);
    expect(vp.canonical).toBe(VP_BUYERS.replace(/\n\s+/g, ' '));
  });

  it('VP buyers: qualifies with every condition met, and each condition alone can disqualify', () => {
    expect(isVpBuyer(vpBuyer(), NOW)).toBe(true);
    expect(isVpBuyer(vpBuyer({ jobTitle: 'Director' }), NOW)).toBe(false);
    expect(isVpBuyer(vpBuyer({ account: { id: 'acc-1', annualRevenue: 99_999_999 } }), NOW)).toBe(false);
    expect(isVpBuyer(vpBuyer({ account: null }), NOW)).toBe(false);
    expect(isVpBuyer(vpBuyer({ events: [pricingView(1), pricingView(10), pricingView(31)] }), NOW)).toBe(false);
    expect(isVpBuyer(vpBuyer({ opportunities: [{ id: 'o', stage: 'Closed Won', role: 'Decision Maker', isPrimary: true }] }), NOW)).toBe(false);
    expect(isVpBuyer(vpBuyer({ opportunities: [{ id: 'o', stage: null, role: 'Decision Maker', isPrimary: true }] }), NOW)).toBe(true);
    expect(isVpBuyer(vpBuyer({ opportunities: [{ id: 'o', stage: 'Prospecting', role: 'Influencer', isPrimary: true }] }), NOW)).toBe(false);
  });

  it('VP buyers: a pricing view leaving the 30-day window takes the person out', () => {
    const member = vpBuyer();
    expect(isVpBuyer(member, new Date(NOW.getTime() + 1))).toBe(false);
  });

  it('engaged accounts: two people who opened email within 14 days and no closed-won opportunity', () => {
    expect(isEngaged(engagedAccount(), NOW)).toBe(true);
    expect(isEngaged(engagedAccount(), new Date(NOW.getTime() + 1))).toBe(false);
    expect(isEngaged(engagedAccount({ opportunities: [{ id: 'o1', stage: 'Closed Won' }] }), NOW)).toBe(false);
    expect(isEngaged(engagedAccount({ opportunities: [] }), NOW)).toBe(true);
    expect(isEngaged(engagedAccount({ people: [] }), NOW)).toBe(false);
  });

  it('explain says why', () => {
    const explanation = explainMember(vp.expr, 'PERSON', vpBuyer(), NOW);
    expect(explanation.value).toBe(true);
    expect(explanation.children.map((child) => [child.condition, child.value])).toEqual([
      ['jobTitle.contains("vp", false)', true],
      ['account.annualRevenue >= 100000000', true],
      ['events.count(type = "web.pageView" and url.contains("/pricing") and timestamp occurs <= 30 days before now) >= 3', true],
      ['opportunities.any(role = "Decision Maker" and stage notIn ["Closed Won", "Closed Lost"])', true],
    ]);
    const [title, revenue, views, opportunity] = explanation.children;
    expect(title.evidence).toEqual({ actual: 'SVP, Sales' });
    expect(revenue.evidence).toEqual({ actual: 250_000_000, recordId: 'acc-1' });
    expect(views.evidence?.count).toBe(3);
    expect(views.evidence?.matchingIds).toHaveLength(3);
    expect(opportunity.evidence).toEqual({ count: 1, matchingIds: ['opp-1'] });
  });
});
