/**
 * What a log line may hold: a bounded copy of its fields, without request data.
 * Used by the logger's formatter (lib/logger.ts) on every line.
 */
import { pino } from 'pino';

/** Characters kept of one string; the rest is replaced by a note of how much was cut. */
export const MAX_LOG_STRING = 2_000;
const MAX_LOG_ARRAY = 20;
const MAX_LOG_KEYS = 50;
const MAX_LOG_DEPTH = 6;

/**
 * Fields that hold what a client sent: request bodies, GraphQL variables and
 * documents (whose literals may be profile data too).
 */
const REQUEST_DATA_KEYS = new Set(['body', 'rawBody', 'variables', 'variableValues', 'params', 'query']);
export const REDACTED = '[request data not logged]';

export function boundLogText(text: string, max = MAX_LOG_STRING): string {
  return text.length <= max ? text : `${text.slice(0, max)}... [${text.length - max} more characters]`;
}

export function boundLogFields(fields: Record<string, unknown>, options: { keepRequestData: boolean }): Record<string, unknown> {
  return boundObject(fields, 0, options.keepRequestData);
}

function bound(value: unknown, depth: number, keepRequestData: boolean): unknown {
  if (typeof value === 'string') return boundLogText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_LOG_DEPTH) return Array.isArray(value) ? `[array of ${value.length}]` : '[object]';
  if (value instanceof Error) return boundObject(pino.stdSerializers.err(value) as Record<string, unknown>, depth, keepRequestData);
  if (value instanceof Date) return value;
  // Values that say how they serialise (ObjectId, URL, Decimal128...) are logged as they would be written.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return bound(toJSON.call(value), depth + 1, keepRequestData);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_LOG_ARRAY).map((item) => bound(item, depth + 1, keepRequestData));
    if (value.length > MAX_LOG_ARRAY) items.push(`... ${value.length - MAX_LOG_ARRAY} more items`);
    return items;
  }
  return boundObject(value as Record<string, unknown>, depth, keepRequestData);
}

function boundObject(object: Record<string, unknown>, depth: number, keepRequestData: boolean): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  let keys = 0;
  for (const key in object) {
    if (++keys > MAX_LOG_KEYS) {
      copy['...'] = 'more keys not logged';
      break;
    }
    const value = object[key];
    copy[key] = !keepRequestData && REQUEST_DATA_KEYS.has(key) && value !== undefined && value !== null ? REDACTED : bound(value, depth + 1, keepRequestData);
  }
  return copy;
}
