/**
 * Who is calling. Authentication arrives in a later issue: `authenticate` will
 * then verify a signed gateway token from the `authorization` header and fail
 * with UNAUTHENTICATED. Until then every request is anonymous; this function is
 * the one place that changes.
 */
import type { RequestHeaders } from './requestHeaders.js';

export type Principal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly id: string; readonly roles: readonly string[] }
  | { readonly kind: 'service'; readonly id: string };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

export const AUTHORIZATION_HEADER = 'authorization';

export async function authenticate(_headers: RequestHeaders): Promise<Principal> {
  return ANONYMOUS;
}
