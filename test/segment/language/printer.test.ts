import { describe, expect, it } from 'vitest';
import { checkSegment, parseSegment, printSegment, withoutSpans, type Expr, type TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { createRandom, generateExpr } from '../../../lib/fixtures/segmentExpressions.js';

const canonical = (text: string) => printSegment(parseSegment(text));
const SEGMENT_IDS = { PERSON: ['vp-people', 'engaged'], ACCOUNT: ['big-accounts'] };
const segmentTarget = (id: string): TargetEntity | undefined => (id === 'big-accounts' ? 'ACCOUNT' : SEGMENT_IDS.PERSON.includes(id) ? 'PERSON' : undefined);

describe('printSegment', () => {
  it('writes one canonical form with the fewest parentheses', () => {
    expect(canonical('(a=1)and((b=2 or c=3))')).toBe('a = 1 and (b = 2 or c = 3)');
    expect(canonical('(a = 1 and b = 2) or c = 3')).toBe('a = 1 and b = 2 or c = 3');
    expect(canonical('not (a = 1) and not (b = 1 or c = 1)')).toBe('not a = 1 and not (b = 1 or c = 1)');
    expect(canonical('not not (a = 1)')).toBe('not not a = 1');
    expect(canonical('events.any((type = "x" or type = "y"))')).toBe('events.any(type = "x" or type = "y")');
    expect(canonical('events.count( ) >= 3 and accounts.none()')).toBe('events.count() >= 3 and accounts.none()');
  });

  it('writes literals in their canonical spelling', () => {
    expect(canonical('a = "q\\"\\\\\\n\\t\\r\\u0001\\u00e9 \u{1F600}"')).toBe('a = "q\\"\\\\\\n\\t\\r\\u0001é \u{1F600}"');
    expect(canonical('a in [1.50, -0, 1e3, 1E-7, 123456789012345678901234]')).toBe('a in [1.5, -0, 1000, 1e-7, 1.2345678901234569e+23]');
    expect(canonical('a = date(2026, 01, 31, 0, 0, 0)')).toBe('a = date(2026, 1, 31)');
    expect(canonical('a = date(2026, 1, 31, 13)')).toBe('a = date(2026, 1, 31, 13)');
    expect(canonical('a = date(2026, 1, 31, 0, 0, 5)')).toBe('a = date(2026, 1, 31, 0, 0, 5)');
    expect(canonical('a = date(50, 1, 1)')).toBe('a = date(50, 1, 1)');
    expect(canonical('t occurs <= 1 days before now')).toBe('t occurs <= 1 day before now');
    expect(canonical('t occurs > 2 month before now')).toBe('t occurs > 2 months before now');
    expect(canonical('x.contains("a", true) and x.contains("a", false)')).toBe('x.contains("a") and x.contains("a", false)');
    expect(canonical('attributes."odd key".x = 1 and attributes.count = 2')).toBe('attributes."odd key".x = 1 and attributes.count = 2');
  });

  it('prints single-operand and empty junctions of hand-built trees so they mean the same', () => {
    const a: Expr = { kind: 'compare', path: ['a'], op: '=', value: { type: 'number', value: 1 } };
    const or: Expr = { kind: 'or', operands: [a, a] };
    expect(printSegment({ kind: 'and', operands: [a, { kind: 'and', operands: [or] }] })).toBe('a = 1 and (a = 1 or a = 1)');
    expect(printSegment({ kind: 'and', operands: [] })).toBe('true');
    expect(printSegment({ kind: 'or', operands: [] })).toBe('false');
  });

  it('round-trips generated trees that all pass the checker and cover every node kind', () => {
    const random = createRandom(20260615);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const target: TargetEntity = i % 2 === 0 ? 'PERSON' : 'ACCOUNT';
      const expr = generateExpr(random, target, { maxDepth: 4, segmentIds: SEGMENT_IDS });
      const text = printSegment(expr);
      expect(withoutSpans(parseSegment(text)), text).toEqual(expr);
      expect(() => checkSegment(expr, { target, segmentTarget }), text).not.toThrow();
      collectKinds(expr, seen);
    }
    expect([...seen].sort()).toEqual(
      [
        'and', 'or', 'not', 'compare', 'in', 'notIn', 'exists', 'stringMatch', 'matches', 'like', 'occurs:before', 'occurs:between',
        'includes', 'intersects', 'any', 'all', 'none', 'count', 'count()', 'any()', 'inSegment', 'constant',
        'events', 'accounts', 'opportunities', 'people', 'people.events', 'account.', 'attributes.', 'now',
      ].sort(),
    );
  });

  it('gives the same trees for the same seed', () => {
    const first = generateExpr(createRandom(7), 'PERSON', { maxDepth: 5 });
    expect(generateExpr(createRandom(7), 'PERSON', { maxDepth: 5 })).toEqual(first);
  });
});

function collectKinds(expr: Expr, seen: Set<string>, inPeople = false): void {
  const note = (kind: string) => seen.add(kind);
  if ('path' in expr) {
    if (expr.path[0] === 'account') note('account.');
    if (expr.path[0] === 'attributes') note('attributes.');
  }
  switch (expr.kind) {
    case 'and':
    case 'or':
      note(expr.kind);
      return expr.operands.forEach((operand) => collectKinds(operand, seen, inPeople));
    case 'not':
      note('not');
      return collectKinds(expr.operand, seen, inPeople);
    case 'quantifier':
    case 'count':
      note(expr.kind === 'count' ? 'count' : expr.quantifier);
      if (!expr.condition) note(`${expr.kind === 'count' ? 'count' : 'any'}()`);
      note(inPeople && expr.relation === 'events' ? 'people.events' : expr.relation);
      if (expr.condition) collectKinds(expr.condition, seen, expr.relation === 'people');
      return;
    case 'in':
      note(expr.negated ? 'notIn' : 'in');
      if (expr.values.some((v) => v.type === 'now')) note('now');
      return;
    case 'occurs':
      return void note(`occurs:${expr.window.kind}`);
    case 'compare':
      if (expr.value.type === 'now') note('now');
      return void note('compare');
    default:
      note(expr.kind);
  }
}
