/**
 * Runtime value semantics shared by the compiled predicate, explain and
 * nextChangeTime: reading a path, comparing by kind, list membership, string
 * matching. Everything here is built once per segment and then called per member.
 */
import type { ComparisonOperator, Path, Scalar, StringFunction } from './ast.js';

/** A member or a relation element, read as a plain record. */
export type Scope = Readonly<Record<string, unknown>>;
/** Reads a path; undefined or null mean MISSING. */
export type Reader = (scope: Scope) => unknown;
/** Tests a value read at a path; `now` is the evaluation time in epoch milliseconds. */
export type ValueTest = (value: unknown, now: number) => boolean;

const hasOwn = Object.prototype.hasOwnProperty;

function isRecord(value: unknown): value is Scope {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A reader for `path`. Keys that exist on Object.prototype (`constructor`, ...) are
 * read as own properties only, so a document without them reads MISSING; other
 * keys use plain property access, which is what makes the common case fast.
 */
export function compileReader(path: Path): Reader {
  const keys = [...path];
  const safe = keys.every((key) => !(key in Object.prototype));
  if (!safe) {
    return (scope) => {
      let value: unknown = scope;
      for (const key of keys) {
        if (!isRecord(value) || !hasOwn.call(value, key)) return undefined;
        value = value[key];
      }
      return value;
    };
  }
  if (keys.length === 1) {
    const [key] = keys;
    return (scope) => scope[key];
  }
  if (keys.length === 2) {
    const [first, second] = keys;
    return (scope) => {
      const parent = scope[first];
      return isRecord(parent) ? parent[second] : undefined;
    };
  }
  return (scope) => {
    let value: unknown = scope;
    for (const key of keys) {
      if (!isRecord(value)) return undefined;
      value = value[key];
    }
    return value;
  };
}

/** Orders strings by Unicode code point (UTF-16 order differs only for surrogates against U+E000-U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

type Order = (sign: number) => boolean;
const ORDERS: Record<Exclude<ComparisonOperator, '=' | '!='>, Order> = {
  '<': (sign) => sign < 0,
  '<=': (sign) => sign <= 0,
  '>': (sign) => sign > 0,
  '>=': (sign) => sign >= 0,
};

/** `value <op> literal` with MISSING false for every operator and cross-kind `=` false, `!=` true, ordering false. */
export function compileComparison(op: ComparisonOperator, literal: Scalar): ValueTest {
  const equals = compileEquals(literal);
  if (op === '=') return equals;
  if (op === '!=') return (value, now) => value !== undefined && value !== null && !equals(value, now);
  const order = ORDERS[op];
  switch (literal.type) {
    case 'string': {
      const s = literal.value;
      return (value) => typeof value === 'string' && order(compareCodePoints(value, s));
    }
    case 'number':
      return numberOrder(op, literal.value);
    case 'boolean': {
      const b = Number(literal.value);
      return (value) => typeof value === 'boolean' && order(Number(value) - b);
    }
    case 'date': {
      const t = literal.value;
      return (value) => value instanceof Date && order(value.getTime() - t);
    }
    case 'now':
      return (value, now) => value instanceof Date && order(value.getTime() - now);
  }
}

/** Numbers get their own closures: the operator inlined, no sign function in between. */
function numberOrder(op: '<' | '<=' | '>' | '>=', n: number): ValueTest {
  switch (op) {
    case '<':
      return (value) => typeof value === 'number' && value < n && value !== -Infinity;
    case '<=':
      return (value) => typeof value === 'number' && value <= n && value !== -Infinity;
    case '>':
      return (value) => typeof value === 'number' && value > n && value !== Infinity;
    case '>=':
      return (value) => typeof value === 'number' && value >= n && value !== Infinity;
  }
}

/** `value = literal` (value present; kinds must match; dates by time). */
export function compileEquals(literal: Scalar): ValueTest {
  switch (literal.type) {
    case 'string':
    case 'number':
    case 'boolean': {
      const v = literal.value;
      return (value) => value === v;
    }
    case 'date': {
      const t = literal.value;
      return (value) => value instanceof Date && value.getTime() === t;
    }
    case 'now':
      return (value, now) => value instanceof Date && value.getTime() === now;
  }
}

/** `value = v` for some listed v: one Set lookup per kind instead of a scan. */
export function compileMembership(values: readonly Scalar[]): ValueTest {
  // A short list of strings or numbers only: strict comparisons beat hashing.
  if (values.length <= 4 && values.every((scalar) => scalar.type === 'string' || scalar.type === 'number')) {
    const listed = values.map((scalar) => (scalar as { value: string | number }).value);
    return (value) => {
      for (let i = 0; i < listed.length; i++) if (value === listed[i]) return true;
      return false;
    };
  }
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const booleans = new Set<boolean>();
  const dates = new Set<number>();
  let hasNow = false;
  for (const scalar of values) {
    if (scalar.type === 'string') strings.add(scalar.value);
    else if (scalar.type === 'number') numbers.add(scalar.value);
    else if (scalar.type === 'boolean') booleans.add(scalar.value);
    else if (scalar.type === 'date') dates.add(scalar.value);
    else hasNow = true;
  }
  return (value, now) => {
    switch (typeof value) {
      case 'string':
        return strings.has(value);
      case 'number':
        // Set lookups treat NaN as equal to NaN; no literal is NaN, so this stays `=`.
        return numbers.has(value);
      case 'boolean':
        return booleans.has(value);
      case 'object':
        if (!(value instanceof Date)) return false;
        return dates.has(value.getTime()) || (hasNow && value.getTime() === now);
      default:
        return false;
    }
  };
}

/** An array value with an element passing `element`. Arrays elsewhere are never descended into. */
export function someElement(element: ValueTest): ValueTest {
  return (value, now) => {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) if (element(value[i], now)) return true;
    return false;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** A literal as a pattern in which ASCII letters match either case and nothing else folds. */
function asciiCaseless(text: string): string {
  return escapeRegExp(text).replace(/[A-Za-z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

/** `.contains`, `.startsWith`, `.endsWith`; false unless the value is a string. */
export function compileStringMatch(fn: StringFunction, needle: string, caseSensitive: boolean): ValueTest {
  if (caseSensitive) {
    if (fn === 'contains') return (value) => typeof value === 'string' && value.includes(needle);
    if (fn === 'startsWith') return (value) => typeof value === 'string' && value.startsWith(needle);
    return (value) => typeof value === 'string' && value.endsWith(needle);
  }
  const body = asciiCaseless(needle);
  const pattern = new RegExp(fn === 'contains' ? body : fn === 'startsWith' ? `^${body}` : `${body}$`);
  return (value) => typeof value === 'string' && pattern.test(value);
}

/** `.matches`: an unanchored search with no flags; the checker has already made sure it compiles. */
export function compileMatches(source: string): ValueTest {
  const pattern = new RegExp(source);
  return (value) => typeof value === 'string' && pattern.test(value);
}

/** `like`: whole-string match; `%` any run (newlines too), `_` one code point, everything else literal. */
export function compileLike(like: string): ValueTest {
  if (!like.includes('_')) {
    const parts = like.split('%');
    if (parts.length === 1) return (value) => value === like;
    // Common shapes need no regular expression.
    if (parts.length === 2 && parts[1] === '') return (value) => typeof value === 'string' && value.startsWith(parts[0]);
    if (parts.length === 2 && parts[0] === '') return (value) => typeof value === 'string' && value.endsWith(parts[1]);
    if (parts.length === 3 && parts[0] === '' && parts[2] === '') {
      const middle = parts[1];
      return (value) => typeof value === 'string' && value.includes(middle);
    }
  }
  let source = '';
  for (const char of like) {
    if (char === '%') {
      if (!source.endsWith('[\\s\\S]*')) source += '[\\s\\S]*';
    } else if (char === '_') source += '[\\s\\S]';
    else source += escapeRegExp(char);
  }
  const pattern = new RegExp(`^${source}$`, 'u');
  return (value) => typeof value === 'string' && pattern.test(value);
}

/** `p occurs <op> N unit before now` or `between A and B`, over epoch milliseconds. */
export function compileWindowTest(
  window: { kind: 'before'; op: '<=' | '<' | '>=' | '>'; duration: number } | { kind: 'between'; from: Scalar; to: Scalar },
): ValueTest {
  if (window.kind === 'between') {
    const from = window.from;
    const to = window.to;
    const fromMs = from.type === 'date' ? from.value : undefined;
    const toMs = to.type === 'date' ? to.value : undefined;
    return (value, now) => {
      if (!(value instanceof Date)) return false;
      const t = value.getTime();
      return (fromMs ?? now) <= t && t <= (toMs ?? now);
    };
  }
  const duration = window.duration;
  switch (window.op) {
    case '<=':
      return (value, now) => value instanceof Date && now - duration <= value.getTime() && value.getTime() <= now;
    case '<':
      return (value, now) => value instanceof Date && now - duration < value.getTime() && value.getTime() <= now;
    case '>=':
      return (value, now) => value instanceof Date && value.getTime() <= now - duration;
    case '>':
      return (value, now) => value instanceof Date && value.getTime() < now - duration;
  }
}
