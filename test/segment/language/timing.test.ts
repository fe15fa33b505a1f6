import { describe, expect, it } from 'vitest';
import { compilePredicate, isTimeDependent, nextChangeTime, parseSegment, type Member, type TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { createRandom, generateExpr } from '../../../lib/fixtures/segmentExpressions.js';
import { DAY, daysAgo, event, generateMember, NOW, person } from './members.js';

const next = (text: string, member: Member, now = NOW) => nextChangeTime(parseSegment(text), 'PERSON', member, now)?.getTime() ?? null;
const withEventAt = (timestamp: Date) => person({ events: [event('web.pageView', timestamp)] });

describe('isTimeDependent', () => {
  it('is true for now and windows before now, false otherwise', () => {
    expect(isTimeDependent(parseSegment('leadScore > 3 or events.any(timestamp occurs > 3 days before now)'))).toBe(true);
    expect(isTimeDependent(parseSegment('attributes.d in [date(2026, 1, 1), now]'))).toBe(true);
    expect(isTimeDependent(parseSegment('attributes.d.includes(now)'))).toBe(true);
    expect(isTimeDependent(parseSegment('events.any(timestamp occurs between date(2026, 1, 1) and now)'))).toBe(true);
    expect(isTimeDependent(parseSegment('events.any(timestamp occurs between date(2026, 1, 1) and date(2026, 2, 1))'))).toBe(false);
    expect(isTimeDependent(parseSegment('leadScore > 3 and events.count() > 1'))).toBe(false);
  });
});

describe('nextChangeTime', () => {
  it('is the instant a window closes on the newest event, or opens on a future one', () => {
    const seen = daysAgo(2);
    expect(next('events.any(timestamp occurs <= 7 days before now)', withEventAt(seen))).toBe(seen.getTime() + 7 * DAY + 1);
    expect(next('events.any(timestamp occurs < 7 days before now)', withEventAt(seen))).toBe(seen.getTime() + 7 * DAY);
    expect(next('events.any(timestamp occurs >= 7 days before now)', withEventAt(seen))).toBe(seen.getTime() + 7 * DAY);
    expect(next('events.any(timestamp occurs > 7 days before now)', withEventAt(seen))).toBe(seen.getTime() + 7 * DAY + 1);
    const future = new Date(NOW.getTime() + DAY);
    expect(next('events.any(timestamp occurs <= 7 days before now)', withEventAt(future))).toBe(future.getTime());
    expect(next('events.any(timestamp occurs between date(2026, 1, 1) and now)', withEventAt(future))).toBe(future.getTime());
  });

  it('takes the earliest instant among all elements and conditions', () => {
    const member = person({ events: [event('a', daysAgo(1)), event('b', daysAgo(5))], leadScore: 1 });
    expect(next('leadScore > 0 and events.count(timestamp occurs <= 7 days before now) >= 2', member)).toBe(daysAgo(5).getTime() + 7 * DAY + 1);
    expect(next('opportunities.any(closeDate < now)', person({ opportunities: [{ id: 'o', closeDate: new Date(NOW.getTime() + 10), isPrimary: true }] }))).toBe(
      NOW.getTime() + 10,
    );
  });

  it('shares the walk of a condition between segments, answering each member and time for itself', () => {
    const window = 'events.any(timestamp occurs <= 7 days before now)';
    const early = withEventAt(daysAgo(5));
    const late = withEventAt(daysAgo(1));
    for (const member of [early, late, early]) {
      const closes = member.events[0]!.timestamp.getTime() + 7 * DAY + 1;
      expect(next(window, member)).toBe(closes);
      expect(next(`leadScore > 1 or ${window}`, member)).toBe(closes);
    }
    expect(next(window, early, daysAgo(-3))).toBeNull();
  });

  it('is null when nothing can change with time', () => {
    expect(next('events.any(timestamp occurs <= 7 days before now)', withEventAt(daysAgo(8)))).toBeNull();
    expect(next('events.any(timestamp occurs >= 7 days before now)', withEventAt(daysAgo(8)))).toBeNull();
    expect(next('leadScore > 3', person({ leadScore: 5 }))).toBeNull();
    expect(next('events.any(timestamp occurs <= 7 days before now)', person())).toBeNull();
  });

  it('never passes a change: the value holds from now until the instant it names', () => {
    const random = createRandom(314);
    let changes = 0;
    for (let i = 0; i < 200; i++) {
      const target: TargetEntity = i % 2 === 0 ? 'PERSON' : 'ACCOUNT';
      // Only segments whose value can move with time say anything here.
      let expr = generateExpr(random, target, { maxDepth: 3, now: NOW });
      while (!isTimeDependent(expr)) expr = generateExpr(random, target, { maxDepth: 3, now: NOW });
      const predicate = compilePredicate(expr, target);
      const member = generateMember(random, target);
      // Walk the reported instants across 60 days; between two of them the value must not move.
      let from = NOW.getTime();
      const horizon = from + 60 * DAY;
      for (let step = 0; step < 30 && from < horizon; step++) {
        const value = predicate(member, new Date(from));
        const until = nextChangeTime(expr, target, member, new Date(from))?.getTime() ?? horizon;
        expect(until).toBeGreaterThan(from);
        if (until < horizon) changes++;
        // Probes strictly between the two instants (none when they are 1 ms apart).
        for (const probe of [from + 1, Math.floor((from + until) / 2), until - 1].filter((at) => at > from && at < until)) {
          expect(predicate(member, new Date(probe)), `${i}: ${probe - NOW.getTime()}`).toBe(value);
        }
        from = until;
      }
    }
    // The walk crossed many reported changes, probing around each, not only values that never move.
    expect(changes).toBeGreaterThan(20);
  });
});
