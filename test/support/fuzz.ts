/**
 * A small, seeded fuzzing kit: the same seed gives the same inputs on every
 * machine, so a failure found once is reproduced by rerunning with its seed.
 * Transport-neutral on purpose: the subgraph suite posts these inputs over HTTP,
 * the gateway suite can post them through the gateway, and the segment
 * language's tests can feed `text`/`mutate` to its parser.
 */

/** mulberry32: a tiny 32-bit PRNG, good enough for test inputs (not for secrets). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Characters that tend to break parsers and escapers. */
const NASTY = ['"', '\\', '{', '}', '[', ']', '(', ')', ':', ',', '$', '.', '#', '\n', '\u0000', '\u2028', '\uffff', '\ud800', '😀', 'é', '%', '_', '@', '!', '...'];
const KEYS = ['a', 'id', 'name', '$where', '$gt', 'a.b', '', '__proto__', 'constructor', 'toString', 'x'.repeat(300)];

export class Fuzz {
  readonly random: () => number;

  constructor(readonly seed: number) {
    this.random = mulberry32(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  /** Text mixing plain letters with characters that break parsers. */
  text(maxLength: number): string {
    const length = this.int(maxLength + 1);
    let out = '';
    for (let i = 0; i < length; i++) {
      out += this.chance(0.2) ? this.pick(NASTY) : String.fromCharCode(32 + this.int(95));
    }
    return out;
  }

  number(): number {
    return this.pick([0, -1, 1.5, 2 ** 31, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e308, -1e-308, this.int(1_000_000)]);
  }

  /** A random JSON value, at most `depth` levels deep. */
  json(depth: number): JsonValue {
    const kind = depth <= 0 ? this.int(4) : this.int(6);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
        return this.text(20);
      case 4:
        return Array.from({ length: this.int(5) }, () => this.json(depth - 1));
      default: {
        const object: Record<string, JsonValue> = {};
        for (let i = this.int(5); i > 0; i--) object[this.chance(0.3) ? this.pick(KEYS) : this.text(8)] = this.json(depth - 1);
        return object;
      }
    }
  }

  /** `[[[...]]]` or `{"a":{"a":...}}`, `depth` levels, as JSON text (no recursion, any depth). */
  nestedJsonText(depth: number, kind: 'array' | 'object' = this.chance(0.5) ? 'array' : 'object'): string {
    return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  }

  /** The same nesting as a GraphQL literal: `[[[1]]]` or `{a: {a: 1}}`. */
  nestedGraphQLLiteral(depth: number, kind: 'list' | 'object' = this.chance(0.5) ? 'list' : 'object'): string {
    return kind === 'list' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
  }

  /** `text` with a few random edits: characters inserted, deleted, replaced, or a slice repeated. */
  mutate(text: string, edits = 1 + this.int(4)): string {
    let out = text;
    for (let i = 0; i < edits; i++) {
      const at = this.int(out.length + 1);
      switch (this.int(4)) {
        case 0:
          out = out.slice(0, at) + this.pick(NASTY) + out.slice(at);
          break;
        case 1:
          out = out.slice(0, at) + out.slice(at + 1 + this.int(5));
          break;
        case 2:
          out = out.slice(0, at) + this.text(3) + out.slice(at + 3);
          break;
        default: {
          const slice = out.slice(at, at + 1 + this.int(20));
          out = out.slice(0, at) + slice.repeat(2 + this.int(20)) + out.slice(at);
        }
      }
    }
    return out;
  }
}

/** One HTTP request body to throw at a GraphQL endpoint. */
export interface FuzzRequest {
  /** What kind of input this is, for the report. */
  kind: string;
  contentType: string;
  body: string | Buffer;
}

export interface GraphQLFuzzSeed {
  query: string;
  /** Variables the query takes; JSON-typed ones get random and hostile values. */
  variables?: Record<string, unknown>;
  /** Names of variables worth replacing with random JSON. */
  jsonVariables?: readonly string[];
}

/**
 * The next request: random bytes, random JSON, mutated documents, hostile
 * variables, deep nesting (JSON and GraphQL), huge strings and many fields,
 * always under `maxBytes` (the endpoint's body limit is tested elsewhere).
 */
export function nextGraphQLRequest(fuzz: Fuzz, seeds: readonly GraphQLFuzzSeed[], maxBytes: number): FuzzRequest {
  const seed = fuzz.pick(seeds);
  const json = (body: unknown, kind: string): FuzzRequest => ({ kind, contentType: 'application/json', body: JSON.stringify(body) });
  const bounded = (n: number) => Math.max(1, Math.min(n, Math.floor(maxBytes / 8)));
  switch (fuzz.int(11)) {
    case 0:
      return { kind: 'random bytes', contentType: fuzz.pick(['application/json', 'application/graphql', 'text/plain', 'application/octet-stream']), body: fuzz.bytes(fuzz.int(2048)) };
    case 1:
      return { kind: 'random JSON body', contentType: 'application/json', body: JSON.stringify(fuzz.json(6)) };
    case 2:
      return json({ query: fuzz.mutate(seed.query), variables: seed.variables }, 'mutated document');
    case 3:
      return json({ query: seed.query, variables: { ...seed.variables, ...randomVariables(fuzz, seed) } }, 'random variables');
    case 4: {
      const depth = bounded(fuzz.pick([21, 100, 10_000, 100_000]));
      const name = seed.jsonVariables?.length ? fuzz.pick(seed.jsonVariables) : 'x';
      const body = `{"query":${JSON.stringify(seed.query)},"variables":{"${name}":{"a":${fuzz.nestedJsonText(depth)}}}}`;
      return { kind: 'deeply nested JSON variable', contentType: 'application/json', body };
    }
    case 5: {
      const depth = bounded(fuzz.pick([21, 100, 5_000, 50_000]));
      return json({ query: `mutation { createDestination(input: { type: MARKETO, name: "x", config: {a: ${fuzz.nestedGraphQLLiteral(depth)}} }) { id } }` }, 'deeply nested GraphQL literal');
    }
    case 6: {
      const depth = bounded(fuzz.pick([50, 1_000, 20_000]));
      return json({ query: `{ ${'a { '.repeat(depth)}b${' }'.repeat(depth)} }` }, 'deeply nested selection');
    }
    case 7: {
      const size = bounded(fuzz.pick([70_000, 200_000, 900_000]));
      const name = seed.jsonVariables?.length ? fuzz.pick(seed.jsonVariables) : 'x';
      return json({ query: seed.query, variables: { ...seed.variables, [name]: { big: 'x'.repeat(size) } } }, 'huge JSON string');
    }
    case 8: {
      const count = bounded(fuzz.pick([1_000, 20_000, 60_000]));
      const name = seed.jsonVariables?.length ? fuzz.pick(seed.jsonVariables) : 'x';
      const wide = Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]));
      return json({ query: seed.query, variables: { ...seed.variables, [name]: wide } }, 'JSON with many keys');
    }
    case 9: {
      const count = bounded(fuzz.pick([100, 2_000, 20_000]));
      return json({ query: `{ ${Array.from({ length: count }, (_, i) => `a${i}: __typename`).join(' ')} }` }, 'many aliases');
    }
    default:
      return json(
        fuzz.pick<unknown>([
          { query: 42 },
          { query: null },
          { query: seed.query, variables: 'not an object' },
          { query: seed.query, operationName: fuzz.text(10) },
          { query: seed.query, extensions: fuzz.json(3) },
          [{ query: seed.query }],
          { query: fuzz.text(200) },
          {},
        ]),
        'malformed request',
      );
  }
}

function randomVariables(fuzz: Fuzz, seed: GraphQLFuzzSeed): Record<string, unknown> {
  const names = [...Object.keys(seed.variables ?? {}), ...(seed.jsonVariables ?? [])];
  const out: Record<string, unknown> = {};
  for (const name of names) if (fuzz.chance(0.7)) out[name] = fuzz.json(4);
  return out;
}
