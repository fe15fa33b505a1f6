import { describe, expect, it } from 'vitest';
import { parseSegment, SegmentLanguageError, withoutSpans, type Expr } from '../../../subgraphs/segment/language/index.js';

const parse = (text: string) => withoutSpans(parseSegment(text));

function syntaxError(text: string): SegmentLanguageError {
  try {
    parseSegment(text);
  } catch (error) {
    expect(error).toBeInstanceOf(SegmentLanguageError);
    return error as SegmentLanguageError;
  }
  throw new Error(`expected a syntax error for ${text}`);
}

describe('parseSegment: what it accepts', () => {
  it('reads literals of every kind', () => {
    expect(parse('a = "x \\"q\\" \\\\ \\n \\t \\u00e9"')).toEqual({ kind: 'compare', path: ['a'], op: '=', value: { type: 'string', value: 'x "q" \\ \n \t é' } });
    expect(parse('a = -12.5e2')).toMatchObject({ value: { type: 'number', value: -1250 } });
    expect(parse('a = 0')).toMatchObject({ value: { type: 'number', value: 0 } });
    expect(parse('a = true')).toMatchObject({ value: { type: 'boolean', value: true } });
    expect(parse('a = now')).toMatchObject({ value: { type: 'now' } });
    expect(parse('a = date(2026, 1, 31)')).toMatchObject({ value: { type: 'date', value: Date.UTC(2026, 0, 31) } });
    expect(parse('a = date(2026, 1, 31, 13, 5, 9)')).toMatchObject({ value: { type: 'date', value: Date.UTC(2026, 0, 31, 13, 5, 9) } });
    expect(parse('a in ["US", 1, false, date(2020, 2, 29), now]')).toMatchObject({
      kind: 'in',
      negated: false,
      values: [
        { type: 'string', value: 'US' },
        { type: 'number', value: 1 },
        { type: 'boolean', value: false },
        { type: 'date', value: Date.UTC(2020, 1, 29) },
        { type: 'now' },
      ],
    });
  });

  it('reads paths, including custom attributes written as strings and field names that are also keywords', () => {
    expect(parse('consents.marketingEmail = "y"')).toMatchObject({ path: ['consents', 'marketingEmail'] });
    expect(parse('attributes."plan tier" = "gold"')).toMatchObject({ path: ['attributes', 'plan tier'] });
    expect(parse('attributes.count = 3')).toMatchObject({ path: ['attributes', 'count'] });
    expect(parse('attributes.in in [1]')).toMatchObject({ kind: 'in', path: ['attributes', 'in'] });
  });

  it('reads every operator', () => {
    const cases: Array<[string, Partial<Expr>]> = [
      ['x != 1', { kind: 'compare', op: '!=' }],
      ['x >= 1', { kind: 'compare', op: '>=' }],
      ['x notIn ["a"]', { kind: 'in', negated: true }],
      ['exists(a.b)', { kind: 'exists', path: ['a', 'b'] }],
      ['x.contains("v")', { kind: 'stringMatch', fn: 'contains', value: 'v', caseSensitive: true }],
      ['x.contains("v", false)', { kind: 'stringMatch', fn: 'contains', caseSensitive: false }],
      ['x.startsWith("v", true)', { kind: 'stringMatch', fn: 'startsWith', caseSensitive: true }],
      ['x.endsWith("v", false)', { kind: 'stringMatch', fn: 'endsWith', caseSensitive: false }],
      ['x.matches("^a+$")', { kind: 'matches', pattern: '^a+$' }],
      ['x like "%a_"', { kind: 'like', pattern: '%a_' }],
      ['t occurs <= 7 days before now', { kind: 'occurs', window: { kind: 'before', op: '<=', amount: 7, unit: 'days' } }],
      ['t occurs > 1 month before now', { kind: 'occurs', window: { kind: 'before', op: '>', amount: 1, unit: 'months' } }],
      ['t occurs < 90 minute before now', { kind: 'occurs', window: { kind: 'before', op: '<', amount: 90, unit: 'minutes' } }],
      [
        't occurs between date(2026, 1, 1) and now',
        { kind: 'occurs', window: { kind: 'between', from: { type: 'date', value: Date.UTC(2026, 0, 1) }, to: { type: 'now' } } },
      ],
      ['x.includes("a")', { kind: 'includes', value: { type: 'string', value: 'a' } }],
      ['x.intersects([1, 2])', { kind: 'intersects' }],
      ['events.any()', { kind: 'quantifier', relation: 'events', quantifier: 'any', condition: null }],
      ['people.all(x = 1)', { kind: 'quantifier', relation: 'people', quantifier: 'all' }],
      ['opportunities.none(x = 1)', { kind: 'quantifier', relation: 'opportunities', quantifier: 'none' }],
      ['accounts.count() >= 3', { kind: 'count', relation: 'accounts', condition: null, op: '>=', value: 3 }],
      ['inSegment("seg-1")', { kind: 'inSegment', segmentId: 'seg-1' }],
      ['false', { kind: 'constant', value: false }],
    ];
    for (const [text, shape] of cases) expect(parse(text), text).toMatchObject(shape);
  });

  it('binds not tighter than and, and tighter than or; flattens chains into one node', () => {
    const a = { kind: 'compare', path: ['a'], op: '=', value: { type: 'number', value: 1 } };
    const b = { ...a, path: ['b'] };
    const c = { ...a, path: ['c'] };
    expect(parse('not a = 1 and b = 1 or c = 1')).toEqual({ kind: 'or', operands: [{ kind: 'and', operands: [{ kind: 'not', operand: a }, b] }, c] });
    expect(parse('a = 1 and (b = 1 and c = 1)')).toEqual({ kind: 'and', operands: [a, b, c] });
    expect(parse('(a = 1 or b = 1) or c = 1')).toEqual({ kind: 'or', operands: [a, b, c] });
    expect(parse('a = 1 and (b = 1 or c = 1)')).toEqual({ kind: 'and', operands: [a, { kind: 'or', operands: [b, c] }] });
  });

  it('allows whitespace, newlines and line comments between tokens', () => {
    expect(parse('// people who score\nleadScore\n  >=   // at least\n 40')).toEqual(parse('leadScore >= 40'));
  });

  it('keeps spans pointing into the text', () => {
    const expr = parseSegment('a = 1 and\n  events.any(type = "x")');
    expect(expr.kind === 'and' && expr.operands[1].span).toEqual({ start: { line: 2, column: 3, offset: 12 }, end: { line: 2, column: 25, offset: 34 } });
  });
});

describe('parseSegment: syntax errors', () => {
  it('names line, column, what was expected and what was found', () => {
    const error = syntaxError('leadScore >= 40\n  and (jobTitle = "x" foo');
    expect(error).toMatchObject({ kind: 'syntax', line: 2, column: 23 });
    expect(error.expected).toEqual(['")"', '"and"', '"or"']);
    expect(error.message).toBe('Syntax error at line 2, column 23: expected one of ")", "and", "or", found "foo"');
  });

  it('lists the operators after a path', () => {
    const error = syntaxError('jobTitle "VP"');
    expect(error).toMatchObject({ line: 1, column: 10 });
    expect(error.expected).toEqual(['"!="', '"."', '"<"', '"<="', '"="', '">"', '">="', '"in"', '"like"', '"notIn"', '"occurs"']);
    expect(error.message).toContain('found the string "VP"');
  });

  it('reports end of input', () => {
    const error = syntaxError('leadScore >=');
    expect(error).toMatchObject({ line: 1, column: 13 });
    expect(error.expected).toEqual(['"date"', '"false"', '"now"', '"true"', 'a number', 'a string']);
    expect(error.message).toContain('found end of input');
  });

  it('points at bad units, unknown methods and relations that are not relations', () => {
    expect(syntaxError('t occurs <= 7 dais before now')).toMatchObject({ column: 15, expected: ['"days"', '"hours"', '"minutes"', '"months"', '"weeks"'] });
    expect(syntaxError('x.containz("a")')).toMatchObject({ column: 3, suggestion: 'contains' });
    const relation = syntaxError('evnts.any()');
    expect(relation).toMatchObject({ column: 1, suggestion: 'events' });
    expect(relation.message).toContain('did you mean `events`?');
    expect(syntaxError('a = 1 and\n   jobTitle.any()')).toMatchObject({ line: 2, column: 4 });
  });

  it('refuses bad strings, numbers, characters and dates', () => {
    expect(syntaxError('a = "open')).toMatchObject({ column: 5 });
    expect(syntaxError('a = "x\\q"')).toMatchObject({ column: 7 });
    expect(syntaxError('a = 1e999').message).toContain('too large');
    expect(syntaxError('a = 1 & b = 2')).toMatchObject({ column: 7 });
    expect(syntaxError('a = date(2026, 2, 30)').message).toContain('does not exist');
    expect(syntaxError('a = date(2026, 13, 1)')).toMatchObject({ column: 16 });
    expect(syntaxError('a = date(2026, 1)')).toMatchObject({ column: 17, expected: ['","'] });
    expect(syntaxError('a = date(2026, 1, 1.5)').message).toContain('whole number');
  });

  it('requires a comparison after count and a number to compare with', () => {
    expect(syntaxError('events.count()')).toMatchObject({ column: 15 });
    expect(syntaxError('events.count() >= "3"')).toMatchObject({ column: 19, expected: ['a number'] });
  });
});
