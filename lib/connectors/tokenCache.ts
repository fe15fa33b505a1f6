/**
 * Access tokens of external APIs, cached per process so clients made per batch
 * or per sync do not re-authenticate. One cache serves every destination and
 * source of the process: a Marketo destination and a Marketo source of the same
 * instance and client use one token. Keys must include a digest of the secret
 * (see `tokenCacheKey`), so a caller with a wrong secret never gets another's token.
 */
import { createHash } from 'node:crypto';

export type TokenCache = Map<string, { token: string; expiresAt: number }>;

const processCache: TokenCache = new Map();

/** The process's one token cache. */
export function sharedTokenCache(): TokenCache {
  return processCache;
}

/** `<kind>|<url>|<clientId>|<digest of the secret>`: equal only for the same credentials at the same place. */
export function tokenCacheKey(kind: string, url: string, clientId: string, clientSecret: string): string {
  const digest = createHash('sha256').update(clientSecret).digest('base64url').slice(0, 16);
  return `${kind}|${url}|${clientId}|${digest}`;
}
