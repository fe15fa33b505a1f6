/**
 * Scalars shared by the subgraphs. Each subgraph declares them in its own
 * schema.graphql with the same definition, so composition merges them.
 *
 * - `JSON`: a JSON object. Keys starting with `$` or containing `.` are
 *   rejected, so stored documents can never carry MongoDB operators; depth,
 *   value count, key length and size are bounded (`JSON_LIMITS`), so a huge or
 *   deeply nested value is a BAD_USER_INPUT error, found in bounded time.
 * - `DateTime`: an ISO-8601 string (`2026-01-31` or `2026-01-31T09:30:00Z`),
 *   stored as a BSON date, returned as a full ISO-8601 UTC timestamp.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { ErrorCode } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Limits on client JSON, checked while walking it, so a hostile value costs bounded time and memory. */
export const JSON_LIMITS = {
  /** Nesting of objects and arrays. */
  maxDepth: 20,
  /** Values of every kind, counted across the whole value. */
  maxValues: 10_000,
  maxKeyLength: 200,
  /** Size of the value written as JSON. */
  maxBytes: 64 * 1024,
} as const;

function invalid(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BadUserInput } });
}

/** Walks a value once; stops at the first broken limit, before looking at the rest. */
class JsonBudget {
  private values = 0;
  // Bytes of the JSON text with separators, counted as we go (strings at their UTF-16 length: a lower bound).
  private bytes = 0;

  spend(path: string, bytes: number): void {
    this.values++;
    this.bytes += bytes;
    if (this.values > JSON_LIMITS.maxValues) {
      throw invalid(`JSON holds more than ${JSON_LIMITS.maxValues} values (at ${path})`);
    }
    if (this.bytes > JSON_LIMITS.maxBytes) throw invalid(`JSON value is larger than ${JSON_LIMITS.maxBytes} bytes`);
  }
}

function checkKey(key: string, path: string): void {
  if (key.length > JSON_LIMITS.maxKeyLength) {
    throw invalid(`JSON key at ${path} is longer than ${JSON_LIMITS.maxKeyLength} characters`);
  }
  if (key.startsWith('$') || key.includes('.') || key === '') {
    throw invalid(`JSON key ${JSON.stringify(key)} at ${path} is not allowed: keys must be non-empty and must not start with "$" or contain "."`);
  }
  // MongoDB ends a field name at a NUL character, so the driver would refuse the whole write.
  if (key.includes('\u0000')) throw invalid(`JSON key ${JSON.stringify(key)} at ${path} holds a NUL character, which a stored key cannot; remove it`);
}

function checkJson(value: unknown, path: string, depth: number, budget: JsonBudget): asserts value is JsonValue {
  if (depth > JSON_LIMITS.maxDepth) throw invalid(`JSON is nested deeper than ${JSON_LIMITS.maxDepth} levels at ${path}`);
  if (value === null || typeof value === 'boolean') return budget.spend(path, 6);
  if (typeof value === 'string') return budget.spend(path, value.length + 3);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`JSON numbers must be finite (at ${path})`);
    return budget.spend(path, String(value).length + 1);
  }
  if (Array.isArray(value)) {
    budget.spend(path, 2);
    value.forEach((item, index) => checkJson(item, `${path}[${index}]`, depth + 1, budget));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    budget.spend(path, 2);
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      checkKey(key, path);
      budget.spend(path, key.length + 3);
      checkJson((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, budget);
    }
    return;
  }
  throw invalid(`JSON cannot hold ${typeof value} values (at ${path})`);
}

/** Validates client JSON: an object, finite numbers, safe keys, bounded depth, count and size. */
export function parseJsonObject(value: unknown): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('JSON value must be an object, e.g. {"key": "value"}');
  }
  checkJson(value, '$', 0, new JsonBudget());
  if (JSON.stringify(value).length > JSON_LIMITS.maxBytes) {
    throw invalid(`JSON value is larger than ${JSON_LIMITS.maxBytes} bytes`);
  }
  return value as JsonObject;
}

type Variables = { readonly [name: string]: unknown } | null | undefined;

/**
 * A literal written in the query (`config: {a: {b: 1}}`) as a plain value, with
 * the depth limit applied while converting, unlike graphql's `valueFromASTUntyped`.
 */
function literalToJson(ast: ValueNode, variables: Variables, path: string, depth: number): unknown {
  if (depth > JSON_LIMITS.maxDepth) throw invalid(`JSON is nested deeper than ${JSON_LIMITS.maxDepth} levels at ${path}`);
  switch (ast.kind) {
    case Kind.NULL:
      return null;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.LIST:
      return ast.values.map((item, index) => literalToJson(item, variables, `${path}[${index}]`, depth + 1));
    case Kind.OBJECT: {
      const object: Record<string, unknown> = {};
      for (const field of ast.fields) {
        checkKey(field.name.value, path);
        object[field.name.value] = literalToJson(field.value, variables, `${path}.${field.name.value}`, depth + 1);
      }
      return object;
    }
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}

export const JSONScalar = new GraphQLScalarType<JsonObject, JsonObject>({
  name: 'JSON',
  description: 'A JSON object. Keys must not start with "$" or contain ".".',
  serialize: (value) => value as JsonObject,
  parseValue: (value) => parseJsonObject(value),
  parseLiteral: (ast: ValueNode, variables) => {
    if (ast.kind !== Kind.OBJECT) throw invalid('JSON value must be an object literal, e.g. {key: "value"}');
    return parseJsonObject(literalToJson(ast, variables, '$', 0));
  },
});

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !(ISO_DATE.test(value) || ISO_DATE_TIME.test(value))) {
    throw invalid(`DateTime must be an ISO-8601 string such as "2026-01-31" or "2026-01-31T09:30:00Z" (got ${JSON.stringify(value)})`);
  }
  const dateOnly = ISO_DATE.test(value);
  const date = new Date(dateOnly ? `${value}T00:00:00Z` : value);
  // `new Date` rolls 2026-02-31 over to March; a real date survives the round trip.
  if (Number.isNaN(date.getTime()) || (dateOnly && date.toISOString().slice(0, 10) !== value)) {
    throw invalid(`DateTime ${JSON.stringify(value)} is not a real date`);
  }
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date-time in UTC, e.g. "2026-01-31T09:30:00.000Z". Inputs may also be a date, "2026-01-31" (midnight UTC).',
  serialize: (value) => {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string') return parseDateTime(value).toISOString();
    throw new GraphQLError('DateTime cannot represent a non-date value');
  },
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalid('DateTime must be a string such as "2026-01-31T09:30:00Z"');
    return parseDateTime(ast.value);
  },
});
