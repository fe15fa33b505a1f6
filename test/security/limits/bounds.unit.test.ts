/** The pure parts of the edge limits: the streaming list scan and bounded log fields. */
import { describe, expect, it } from 'vitest';
import { JsonListScanner, jsonListLengthError, valueListLengthError } from '../../../lib/limits/requestBody.js';
import { boundLogFields, MAX_LOG_STRING, REDACTED } from '../../../lib/logBounds.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('list length scan', () => {
  it('refuses the first list over the limit at any depth, and counts only list elements', () => {
    expect(jsonListLengthError(bytes('{"a":[1,2,3],"b":{"c":1,"d":2,"e":3,"f":4}}'), 3)).toBeUndefined();
    expect(jsonListLengthError(bytes('{"v":{"deep":[[1],[1,2,3,4]]}}'), 3)?.code).toBe('LIMIT_EXCEEDED');
    expect(jsonListLengthError(bytes('[{"a":1,"b":2},{"a":1,"b":2}]'), 2)).toBeUndefined();
  });

  it('ignores commas and brackets inside strings, escaped quotes included', () => {
    expect(jsonListLengthError(bytes('{"q":"[1,2,3,4,5]","e":"\\\\\\",[,,,]","l":[1,2]}'), 2)).toBeUndefined();
  });

  it('finds a list split over chunks as they arrive', () => {
    const scanner = new JsonListScanner(4);
    expect(scanner.push(bytes('{"ids":[1,2,'))).toBeUndefined();
    expect(scanner.push(bytes('"a,b",4'))).toBeUndefined();
    expect(scanner.push(bytes(',5]}'))?.details).toEqual({ maxListLength: 4 });
  });

  it('checks parsed values the same way', () => {
    expect(valueListLengthError({ a: { b: [1, 2, 3] } }, 3)).toBeUndefined();
    expect(valueListLengthError({ a: { b: [[1, 2, 3, 4]] } }, 3)?.code).toBe('LIMIT_EXCEEDED');
  });
});

describe('log fields', () => {
  it('replace request data and cut long values', () => {
    const bounded = boundLogFields(
      { variables: { email: 'a@b.example' }, body: '{"x":1}', note: 'y'.repeat(10_000), list: Array.from({ length: 100 }, (_, i) => i), err: new Error('z'.repeat(5_000)) },
      { keepRequestData: false },
    );
    expect(bounded.variables).toBe(REDACTED);
    expect(bounded.body).toBe(REDACTED);
    expect((bounded.note as string).length).toBeLessThan(MAX_LOG_STRING + 50);
    expect((bounded.list as unknown[]).length).toBe(21);
    expect(((bounded.err as { message: string }).message).length).toBeLessThan(MAX_LOG_STRING + 50);
    expect(JSON.stringify(bounded).length).toBeLessThan(20_000);
  });

  it('keep request data, still bounded, when the debug switch is on', () => {
    const bounded = boundLogFields({ variables: { email: 'a@b.example', blob: 'x'.repeat(10_000) } }, { keepRequestData: true });
    expect((bounded.variables as { email: string }).email).toBe('a@b.example');
    expect(((bounded.variables as { blob: string }).blob).length).toBeLessThan(MAX_LOG_STRING + 50);
  });
});
