import { describe, expect, it } from 'vitest';
import { compilePredicate, explainMember, parseSegment, type TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { createRandom, generateExpr } from '../../../lib/fixtures/segmentExpressions.js';
import { account, accountPerson, event, generateMember, NOW, person } from './members.js';

const explain = (text: string, member: Parameters<typeof explainMember>[2], target: TargetEntity = 'PERSON') =>
  explainMember(parseSegment(text), target, member, NOW);

describe('explainMember', () => {
  it('shows the value read, null when missing, and the primary account used', () => {
    expect(explain('leadScore >= 40', person({ leadScore: 12 }))).toEqual({
      condition: 'leadScore >= 40',
      value: false,
      evidence: { actual: 12 },
      children: [],
    });
    expect(explain('not leadScore >= 40', person())).toEqual({
      condition: 'not leadScore >= 40',
      value: true,
      children: [{ condition: 'leadScore >= 40', value: false, evidence: { actual: null }, children: [] }],
    });
    expect(explain('account.industry = "Software"', person({ account: null })).evidence).toEqual({ actual: null, recordId: null });
    expect(explain('account.industry = "Software"', person({ account: { id: 'a-9', industry: 'Software' } }))).toMatchObject({
      value: true,
      evidence: { actual: 'Software', recordId: 'a-9' },
    });
  });

  it('evaluates every operand, not just up to the first that decides', () => {
    const node = explain('leadScore > 1 and country = "US" or jobTitle = "CTO"', person({ leadScore: 0, country: 'US', jobTitle: 'CTO' }));
    expect(node.value).toBe(true);
    expect(node.children[0].children.map((c) => c.value)).toEqual([false, true]);
    expect(node.children[1]).toMatchObject({ condition: 'jobTitle = "CTO"', value: true });
  });

  it('counts matching elements and names at most 50 of them', () => {
    const events = Array.from({ length: 60 }, (_, i) => event(i % 2 ? 'email.open' : 'web.pageView', NOW, { id: `e${i}` }));
    const node = explain('events.count(type = "email.open") >= 3', person({ events }));
    expect(node.value).toBe(true);
    expect(node.evidence?.count).toBe(30);
    expect(node.evidence?.matchingIds).toHaveLength(30);
    expect(node.evidence?.matchingIds?.[0]).toBe('e1');
    const all = explain('events.any()', person({ events }));
    expect(all.evidence?.count).toBe(60);
    expect(all.evidence?.matchingIds).toHaveLength(50);
    expect(explain('events.all(type = "email.open")', person({ events }))).toMatchObject({ value: false, evidence: { count: 30 } });
  });

  it('shows the segments read by inSegment, on an account and inside people', () => {
    const member = account({ segments: ['big'], people: [accountPerson({ id: 'p1', segments: ['engaged'] })] });
    expect(explain('inSegment("big")', member, 'ACCOUNT')).toMatchObject({ value: true, evidence: { actual: ['big'] } });
    expect(explain('people.any(inSegment("engaged"))', member, 'ACCOUNT')).toMatchObject({ value: true, evidence: { count: 1, matchingIds: ['p1'] } });
  });

  it('agrees with the compiled predicate on generated segments and members', () => {
    const random = createRandom(99);
    const segmentIds = { PERSON: ['p1', 'p2'], ACCOUNT: ['a1'] };
    for (let i = 0; i < 300; i++) {
      const target: TargetEntity = i % 2 === 0 ? 'PERSON' : 'ACCOUNT';
      const expr = generateExpr(random, target, { maxDepth: 4, segmentIds, now: NOW });
      const predicate = compilePredicate(expr, target);
      for (let j = 0; j < 5; j++) {
        const member = generateMember(random, target);
        expect(explainMember(expr, target, member, NOW).value).toBe(predicate(member, NOW));
      }
    }
  });
});
