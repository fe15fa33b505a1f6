/** The one error the segment language throws: syntax, type or limit, with where it points. */
import type { Position } from './ast.js';

/** A syntax, type or limit error, with the 1-based line and column it points at. */
export class SegmentLanguageError extends Error {
  constructor(
    message: string,
    readonly kind: 'syntax' | 'type' | 'limit',
    readonly line: number,
    readonly column: number,
    /** What the parser expected at that point (syntax errors), e.g. ['")"', '"and"']. */
    readonly expected: readonly string[] = [],
    /** A likely intended name for an unknown field, e.g. "jobTitle". */
    readonly suggestion?: string,
  ) {
    super(message);
    this.name = 'SegmentLanguageError';
  }
}

export const START: Position = { line: 1, column: 1, offset: 0 };

/** Builds an error whose message starts with where it points, so a log line alone is enough to find it. */
export function languageError(
  kind: SegmentLanguageError['kind'],
  at: Position | undefined,
  message: string,
  extra: { expected?: readonly string[]; suggestion?: string } = {},
): SegmentLanguageError {
  const where = at ?? START;
  const label = kind === 'syntax' ? 'Syntax error' : kind === 'type' ? 'Type error' : 'Limit exceeded';
  return new SegmentLanguageError(
    `${label} at line ${where.line}, column ${where.column}: ${message}`,
    kind,
    where.line,
    where.column,
    extra.expected ?? [],
    extra.suggestion,
  );
}
