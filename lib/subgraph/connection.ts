/** Relay connections: the page shape, opaque cursors, and pages built from `limit + 1` rows. */
import { badInput } from '../errors.js';

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a cursor this connection made; anything else is BAD_USER_INPUT. */
export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // Falls through to the error below.
  }
  throw badInput('after is not a cursor from this connection; pass pageInfo.endCursor of the previous page', { field: 'after' });
}

/** Builds a page from up to `limit + 1` items: the extra one only says there is a next page. */
export function toConnection<T>(items: readonly T[], limit: number, cursorOf: (item: T) => string): Connection<T> {
  const page = items.slice(0, limit);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: items.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
