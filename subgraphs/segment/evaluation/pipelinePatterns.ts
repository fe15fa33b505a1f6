/**
 * Regular expressions for `$regexMatch`, written in the syntax PCRE (MongoDB, UTF mode) and
 * JavaScript (with or without the `u` flag) read the same way, so string conditions mean the
 * same on every server as in the compiled predicate:
 * - the end of the subject is `(?![\s\S])`, never `$` (PCRE's `$` also matches before a final newline);
 * - one character is `[\s\S]` (a code point in UTF mode), never `.`;
 * - literals escape only syntax characters (identity escapes of other characters are errors in `u` mode);
 * - case-insensitive literals fold ASCII letters only, as `[aA]`, never with the `i` flag.
 */

/** End of the subject in both dialects. */
const END = '(?![\\s\\S])';
const ANY = '[\\s\\S]';
/** What JavaScript's `.` matches: anything but line terminators (PCRE's `.` only excludes `\n`). */
const DOT = '[^\\n\\r\u2028\u2029]';

/** A literal as a pattern; NUL written as an escape, since MongoDB refuses a pattern holding a NUL byte. */
export function literalPattern(text: string, caseSensitive = true): string {
  let out = '';
  for (const char of text) {
    if (/[\\^$.*+?()[\]{}|/]/.test(char)) out += `\\${char}`;
    else if (char === '\0') out += '\\x00';
    else if (!caseSensitive && /[A-Za-z]/.test(char)) out += `[${char.toLowerCase()}${char.toUpperCase()}]`;
    else out += char;
  }
  return out;
}

export function containsPattern(fn: 'contains' | 'startsWith' | 'endsWith', needle: string, caseSensitive: boolean): string {
  const body = literalPattern(needle, caseSensitive);
  if (fn === 'startsWith') return `^${body}`;
  if (fn === 'endsWith') return `${body}${END}`;
  return body;
}

/** `like`: the whole string; `%` any run (newlines too), `_` one code point, every other character literal. */
export function likePattern(like: string): string {
  let out = '^';
  let previousPercent = false;
  for (const char of like) {
    if (char === '%') {
      if (!previousPercent) out += `${ANY}*`;
      previousPercent = true;
      continue;
    }
    previousPercent = false;
    out += char === '_' ? ANY : literalPattern(char);
  }
  return `${out}${END}`;
}

/**
 * `.matches`: the user's pattern (already checked to compile as a JavaScript RegExp) with the
 * constructs whose meaning differs between the dialects rewritten: outside character classes,
 * `$` to the end of the subject, `.` to JavaScript's any-but-line-terminator class, and
 * JavaScript's empty class `[]` (nothing) and `[^]` (anything); everywhere, `\uXXXX` (which
 * PCRE refuses) to the character itself.
 */
export function matchesPattern(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    const unicode = char === '\\' ? /^\\u([0-9A-Fa-f]{4})(?:\\u([0-9A-Fa-f]{4}))?/.exec(source.slice(i)) : null;
    if (unicode) {
      const high = parseInt(unicode[1], 16);
      const low = unicode[2] === undefined ? undefined : parseInt(unicode[2], 16);
      const pair = low !== undefined && high >= 0xd800 && high < 0xdc00 && low >= 0xdc00 && low < 0xe000;
      const text = pair ? String.fromCharCode(high, low) : String.fromCharCode(high);
      out += inClass ? text.replace(/[\\\]\[^-]/g, '\\$&') : literalPattern(text);
      i += (pair ? unicode[0].length : 6) - 1;
    } else if (char === '\\') {
      out += source.slice(i, i + 2);
      i++;
    } else if (char === '\0') {
      out += '\\x00';
    } else if (inClass) {
      out += char;
      if (char === ']') inClass = false;
    } else if (source.startsWith('[]', i)) {
      out += '(?!)';
      i += 1;
    } else if (source.startsWith('[^]', i)) {
      out += ANY;
      i += 2;
    } else if (char === '[') {
      out += char;
      inClass = true;
    } else if (char === '$') {
      out += END;
    } else if (char === '.') {
      out += DOT;
    } else {
      out += char;
    }
  }
  return out;
}
