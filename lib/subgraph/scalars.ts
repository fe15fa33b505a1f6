/**
 * Scalars shared by the subgraphs. Each subgraph declares them in its own
 * schema.graphql with the same definition, so composition merges them.
 *
 * - `JSON`: a JSON object. Keys starting with `$` or containing `.` are
 *   rejected, so stored documents can never carry MongoDB operators.
 * - `DateTime`: an ISO-8601 string (`2026-01-31` or `2026-01-31T09:30:00Z`),
 *   stored as a BSON date, returned as a full ISO-8601 UTC timestamp.
 */
import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped, type ValueNode } from 'graphql';
import { ErrorCode } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const MAX_JSON_DEPTH = 20;
const MAX_JSON_BYTES = 64 * 1024;

function invalid(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BadUserInput } });
}

function checkJson(value: unknown, path: string, depth: number): asserts value is JsonValue {
  if (depth > MAX_JSON_DEPTH) throw invalid(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels at ${path}`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`JSON numbers must be finite (at ${path})`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkJson(item, `${path}[${index}]`, depth + 1));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('$') || key.includes('.') || key === '') {
        throw invalid(`JSON key ${JSON.stringify(key)} at ${path} is not allowed: keys must be non-empty and must not start with "$" or contain "."`);
      }
      checkJson(item, `${path}.${key}`, depth + 1);
    }
    return;
  }
  throw invalid(`JSON cannot hold ${typeof value} values (at ${path})`);
}

/** Validates client JSON: an object, finite numbers, safe keys, bounded size. */
export function parseJsonObject(value: unknown): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('JSON value must be an object, e.g. {"key": "value"}');
  }
  checkJson(value, '$', 0);
  if (JSON.stringify(value).length > MAX_JSON_BYTES) {
    throw invalid(`JSON value is larger than ${MAX_JSON_BYTES} bytes`);
  }
  return value as JsonObject;
}

export const JSONScalar = new GraphQLScalarType<JsonObject, JsonObject>({
  name: 'JSON',
  description: 'A JSON object. Keys must not start with "$" or contain ".".',
  serialize: (value) => value as JsonObject,
  parseValue: (value) => parseJsonObject(value),
  parseLiteral: (ast: ValueNode, variables) => {
    if (ast.kind !== Kind.OBJECT) throw invalid('JSON value must be an object literal, e.g. {key: "value"}');
    return parseJsonObject(valueFromASTUntyped(ast, variables ?? undefined));
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
