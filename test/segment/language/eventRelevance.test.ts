import { describe, expect, it } from 'vitest';
import { eventRelevance, EVERY_EVENT, NO_EVENT, parseSegment } from '../../../subgraphs/segment/language/index.js';
import { DAY, NOW } from './members.js';

const now = NOW.getTime();
const pageView = (url: string, daysAgo = 0) => ({ id: 'e1', type: 'web.pageView', url, timestamp: new Date(now - daysAgo * DAY) });
const open = { id: 'e2', type: 'email.open', url: 'https://acme.example/pricing', timestamp: NOW };
const submit = { id: 'e3', type: 'form.submit', timestamp: NOW };

/** Whether each event can change the segment's result. */
function reaches(text: string, ...events: Array<Record<string, unknown>>): boolean[] {
  const relevance = eventRelevance(parseSegment(text));
  return events.map((event) => (relevance === EVERY_EVENT ? true : relevance === NO_EVENT ? false : relevance(event, now)));
}

describe('which new events can change a person segment', () => {
  it('none for a segment that reads no events', () => {
    expect(eventRelevance(parseSegment('jobTitle = "VP" and accounts.any(annualRevenue > 10)'))).toBe(NO_EVENT);
  });

  it('every event for a count without condition, an all, or an inSegment', () => {
    for (const text of ['events.count() >= 3', 'events.all(type = "email.open")', 'events.any(type = "email.open") or inSegment("s1")']) {
      expect(eventRelevance(parseSegment(text)), text).toBe(EVERY_EVENT);
    }
  });

  it('the events that satisfy a condition on their own fields, whether the relation is counted, wanted or refused', () => {
    const condition = 'type = "web.pageView" and url.contains("/pricing")';
    for (const text of [`events.any(${condition})`, `events.count(${condition}) >= 2`, `not events.any(${condition})`, `events.none(${condition})`]) {
      expect(reaches(text, pageView('/pricing/plans'), pageView('/blog'), open), text).toEqual([true, false, false]);
    }
  });

  it('an event a time window leaves out now, since the window may take it in later, but not one the rest of the condition refuses', () => {
    const text = 'events.count(type = "web.pageView" and timestamp occurs <= 30 days before now) >= 3';
    expect(reaches(text, pageView('/x', 40), pageView('/x', 1), open)).toEqual([true, true, false]);
  });

  it('negations inside a condition, in three values', () => {
    expect(reaches('events.any(not type = "email.open")', open, submit)).toEqual([false, true]);
    expect(reaches('events.any(not (type = "email.open" and timestamp occurs <= 1 days before now))', open, submit)).toEqual([true, true]);
  });

  it('any of several event conditions', () => {
    const text = 'events.any(type = "web.pageView") and not events.any(type = "form.submit")';
    expect(reaches(text, pageView('/a'), submit, open)).toEqual([true, true, false]);
  });
});
