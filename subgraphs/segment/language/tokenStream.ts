/**
 * The parser's cursor over tokens: lookahead, the set of things tried at the
 * current token (so a syntax error can list everything that would have fitted),
 * spans, and the nesting counter that bounds recursion.
 */
import type { Position, Span } from './ast.js';
import { languageError } from './errors.js';
import type { Token } from './lexer.js';
import { LIMITS } from './limits.js';

export class TokenStream {
  protected index = 0;
  protected depth = 0;
  /** What was tried at `expectedOffset` and did not match, for the error message if nothing does. */
  protected expected = new Set<string>();
  protected expectedOffset = -1;

  constructor(protected readonly tokens: Token[]) {}

  protected get token(): Token {
    return this.tokens[this.index];
  }

  protected get lastEnd(): Position {
    return this.tokens[Math.max(0, this.index - 1)].end;
  }

  protected next(): Token {
    const token = this.tokens[this.index];
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  protected note(description: string): void {
    const offset = this.token.start.offset;
    if (offset > this.expectedOffset) {
      this.expected = new Set();
      this.expectedOffset = offset;
    }
    if (offset === this.expectedOffset) this.expected.add(description);
  }

  protected isPunct(text: string): boolean {
    if (this.token.kind === 'punct' && this.token.text === text) return true;
    this.note(JSON.stringify(text));
    return false;
  }

  protected isKeyword(word: string): boolean {
    if (this.token.kind === 'ident' && this.token.text === word) return true;
    this.note(JSON.stringify(word));
    return false;
  }

  protected acceptPunct(text: string): boolean {
    if (!this.isPunct(text)) return false;
    this.next();
    return true;
  }

  protected acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.next();
    return true;
  }

  protected expectPunct(text: string): Token {
    if (!this.isPunct(text)) throw this.unexpected();
    return this.next();
  }

  protected expectKeyword(word: string): Token {
    if (!this.isKeyword(word)) throw this.unexpected();
    return this.next();
  }

  protected expectKind(kind: 'string' | 'number', description: string): Token {
    if (this.token.kind === kind) return this.next();
    this.note(description);
    throw this.unexpected();
  }

  protected expectEnd(): void {
    if (this.token.kind === 'eof') return;
    this.note('end of input');
    throw this.unexpected();
  }

  protected unexpected() {
    const token = this.token;
    const expected = token.start.offset === this.expectedOffset ? [...this.expected].sort() : [];
    const wanted = expected.length === 1 ? expected[0] : `one of ${expected.join(', ')}`;
    return languageError('syntax', token.start, `expected ${wanted}, found ${describe(token)}`, { expected });
  }

  protected enter(token: Token): void {
    if (++this.depth > LIMITS.depth) {
      throw languageError('limit', token.start, `the expression nests deeper than ${LIMITS.depth} levels (parentheses, not and relation conditions each count)`);
    }
  }

  protected span(start: Position): Span {
    return { start, end: this.lastEnd };
  }

  protected leave(): void {
    this.depth--;
  }
}

export function spanOf(token: Token): Span {
  return { start: token.start, end: token.end };
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `the string ${JSON.stringify(token.text)}`;
    case 'number':
      return `the number ${token.text}`;
    default:
      return JSON.stringify(token.text);
  }
}
