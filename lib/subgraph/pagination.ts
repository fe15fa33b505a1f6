/** Keyset pagination on string ids (ids sort by creation time, see ids.ts). */
import { badInput } from '../errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface PageQuery {
  limit: number;
  after: string | undefined;
}

export function parsePageArgs(args: PageArgs): PageQuery {
  const limit = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw badInput(`first must be an integer from 1 to ${MAX_PAGE_SIZE} (got ${limit})`, { field: 'first' });
  }
  return { limit, after: args.after ?? undefined };
}
