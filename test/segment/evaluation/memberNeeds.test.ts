/** `memberNeeds`: what a scan loads of each member, read from the segments of the run. */
import { describe, expect, it } from 'vitest';
import { memberNeeds } from '../../../subgraphs/segment/evaluation/memberNeeds.js';
import { parseSegment } from '../../../subgraphs/segment/language/index.js';

const NOW = new Date(Date.UTC(2026, 5, 15, 12));
const DAY = 86_400_000;
const needs = (...texts: string[]) => memberNeeds(texts.map(parseSegment), NOW);

describe('memberNeeds', () => {
  it('names the person fields, relations and inSegment the segments read', () => {
    const { person } = needs('jobTitle = "CTO" and consents.marketingEmail = "y"', 'account.annualRevenue > 5 or inSegment("s1")');
    expect(person).toEqual({ fields: ['jobTitle', 'consents'], events: null, accounts: true, opportunities: false, segments: true });
    expect(needs('opportunities.any(role = "Decision Maker")').person).toMatchObject({ fields: [], accounts: false, opportunities: true, segments: false });
  });

  it('reads events from the earliest window any events condition can match', () => {
    const since = (...texts: string[]) => needs(...texts).person.events?.since;
    expect(since('events.count(type = "x" and timestamp occurs <= 30 days before now) >= 3')).toEqual(new Date(NOW.getTime() - 30 * DAY));
    expect(since('events.any(timestamp occurs <= 2 days before now)', 'events.none(timestamp occurs between date(2026, 1, 1) and now)')).toEqual(new Date(Date.UTC(2026, 0, 1)));
    expect(since('events.any(timestamp >= date(2026, 6, 1) or (type = "x" and timestamp occurs < 1 weeks before now))')).toEqual(new Date(Date.UTC(2026, 5, 1)));
  });

  it('reads every event when a condition can match old events or sees every element', () => {
    const since = (text: string) => needs(text).person.events?.since;
    expect(since('events.any(type = "x" or timestamp occurs <= 2 days before now)')).toBeNull();
    expect(since('events.any(timestamp occurs >= 2 days before now)')).toBeNull();
    expect(since('events.all(timestamp occurs <= 2 days before now)')).toBeNull();
    expect(since('events.count() >= 2')).toBeNull();
    expect(since('not events.any()')).toBeNull();
  });

  it('gives an account scan the needs of its people and their events', () => {
    const { account } = needs('people.any(jobTitle = "CTO" and events.any(timestamp occurs <= 14 days before now)) and opportunities.none(stage = "Closed Won")');
    expect(account).toEqual({
      people: { fields: ['jobTitle'], events: { since: new Date(NOW.getTime() - 14 * DAY) }, accounts: false, opportunities: false, segments: false },
      opportunities: true,
      segments: false,
    });
    expect(needs('annualRevenue > 5').account).toEqual({ people: null, opportunities: false, segments: false });
  });
});
