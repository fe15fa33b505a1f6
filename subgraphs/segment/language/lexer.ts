/**
 * Splits expression text into tokens with positions. Keywords are not special
 * here: the parser decides from context whether `in` or `count` is a keyword or a
 * field name, so custom attributes may use any identifier after a dot.
 */
import type { Position } from './ast.js';
import { languageError } from './errors.js';

export type TokenKind = 'ident' | 'string' | 'number' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier or punctuation as written; a string's decoded value; a number's source text. */
  text: string;
  /** A number token's value. */
  value: number;
  start: Position;
  end: Position;
}

const PUNCTUATION = ['!=', '>=', '<=', '(', ')', '[', ']', ',', '.', '=', '>', '<'];
const NUMBER = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  let line = 1;
  let lineStart = 0;
  const position = (at: number): Position => ({ line, column: at - lineStart + 1, offset: at });

  while (offset < text.length) {
    const char = text[offset];
    if (char === '\n') {
      offset++;
      line++;
      lineStart = offset;
      continue;
    }
    if (char === ' ' || char === '\t' || char === '\r') {
      offset++;
      continue;
    }
    if (char === '/' && text[offset + 1] === '/') {
      while (offset < text.length && text[offset] !== '\n') offset++;
      continue;
    }
    const start = position(offset);
    if (char === '"') {
      const { value, next, newlines, lastNewline } = readString(text, offset, start);
      offset = next;
      if (newlines > 0) {
        line += newlines;
        lineStart = lastNewline + 1;
      }
      tokens.push({ kind: 'string', text: value, value: 0, start, end: position(offset) });
      continue;
    }
    if (char === '-' || (char >= '0' && char <= '9')) {
      NUMBER.lastIndex = offset;
      const match = NUMBER.exec(text);
      if (!match) throw languageError('syntax', start, `"-" must be followed by a number`, { expected: ['a number'] });
      const value = Number(match[0]);
      if (!Number.isFinite(value)) throw languageError('syntax', start, `the number ${match[0]} is too large`);
      offset += match[0].length;
      tokens.push({ kind: 'number', text: match[0], value, start, end: position(offset) });
      continue;
    }
    IDENTIFIER.lastIndex = offset;
    const identifier = IDENTIFIER.exec(text);
    if (identifier) {
      offset += identifier[0].length;
      tokens.push({ kind: 'ident', text: identifier[0], value: 0, start, end: position(offset) });
      continue;
    }
    const punct = PUNCTUATION.find((p) => text.startsWith(p, offset));
    if (!punct) {
      const shown = String.fromCodePoint(text.codePointAt(offset) ?? 0);
      throw languageError('syntax', start, `unexpected character ${JSON.stringify(shown)}`);
    }
    offset += punct.length;
    tokens.push({ kind: 'punct', text: punct, value: 0, start, end: position(offset) });
  }
  tokens.push({ kind: 'eof', text: '', value: 0, start: position(offset), end: position(offset) });
  return tokens;
}

function readString(text: string, open: number, start: Position) {
  let value = '';
  let offset = open + 1;
  let newlines = 0;
  let lastNewline = -1;
  let chunkStart = offset;
  for (;;) {
    if (offset >= text.length) throw languageError('syntax', start, 'unterminated string', { expected: ['"\\""'] });
    const char = text[offset];
    if (char === '"') break;
    if (char === '\n') {
      newlines++;
      lastNewline = offset;
    }
    if (char !== '\\') {
      offset++;
      continue;
    }
    value += text.slice(chunkStart, offset);
    const escape = text[offset + 1];
    if (escape === 'u') {
      const hex = text.slice(offset + 2, offset + 6);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw escapeError(text, open, start, offset);
      value += String.fromCharCode(parseInt(hex, 16));
      offset += 6;
    } else if (escape !== undefined && escape in ESCAPES) {
      value += ESCAPES[escape];
      offset += 2;
    } else {
      throw escapeError(text, open, start, offset);
    }
    chunkStart = offset;
  }
  value += text.slice(chunkStart, offset);
  return { value, next: offset + 1, newlines, lastNewline };
}

function escapeError(text: string, open: number, start: Position, at: number) {
  // The escape sits on the string's line unless the string spans lines; count from the string's start.
  let line = start.line;
  let column = start.column;
  for (let i = open; i < at; i++) {
    if (text[i] === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return languageError('syntax', { line, column, offset: at }, 'invalid escape in string: use \\" \\\\ \\n \\t \\r or \\uXXXX', {
    expected: ['\\"', '\\\\', '\\n', '\\t', '\\r', '\\uXXXX'],
  });
}
