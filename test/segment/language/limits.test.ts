import { describe, expect, it } from 'vitest';
import { LIMITS, parseSegment, SegmentLanguageError } from '../../../subgraphs/segment/language/index.js';

function limitError(text: string): SegmentLanguageError {
  try {
    parseSegment(text);
  } catch (error) {
    expect(error).toMatchObject({ kind: 'limit' });
    return error as SegmentLanguageError;
  }
  throw new Error('expected a limit error');
}

describe('limits', () => {
  it('refuses text over 20,000 characters before reading it', () => {
    const fits = `jobTitle = "${'x'.repeat(LIMITS.expressionLength - 13)}"`;
    expect(fits).toHaveLength(LIMITS.expressionLength);
    expect(() => parseSegment(fits)).not.toThrow();
    // One character more is refused even though it would not even lex.
    const error = limitError(`${fits}\u0000`);
    expect(error.message).toContain('20,001 characters long; the limit is 20,000 characters');
    expect(error).toMatchObject({ line: 1, column: 1 });
  });

  it('refuses nesting deeper than 32, counting parentheses, not and relation conditions', () => {
    expect(() => parseSegment(`${'('.repeat(32)}a = 1${')'.repeat(32)}`)).not.toThrow();
    const error = limitError(`${'('.repeat(33)}a = 1${')'.repeat(33)}`);
    expect(error).toMatchObject({ line: 1, column: 33 });
    expect(error.message).toContain('nests deeper than 32 levels');
    expect(() => parseSegment(`${'not '.repeat(32)}a = 1`)).not.toThrow();
    expect(limitError(`${'not '.repeat(33)}a = 1`)).toMatchObject({ column: 129 });
    expect(limitError(`${'people.any('.repeat(11)}${'not ('.repeat(11)}not not not not not not not not not not not a = 1`).message).toContain('32');
  });

  it('fails deep input with a limit error, not a stack overflow', () => {
    expect(limitError('('.repeat(19_000)).message).toContain('nests deeper');
    expect(limitError('events.any('.repeat(1_800)).message).toContain('nests deeper');
  });

  it('refuses lists of more than 1,000 values, at the first value over', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i).join(',');
    expect(() => parseSegment(`a in [${values(1_000)}]`)).not.toThrow();
    const error = limitError(`a in [${values(1_001)}]`);
    expect(error.message).toContain('more than 1,000 values');
    expect(error.column).toBe(`a in [${values(1_000)},`.length + 1);
  });
});
