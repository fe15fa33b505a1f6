/**
 * The one place the gateway decides who a request is. It is called at the
 * edge, before any GraphQL work: per HTTP request (plugins/useRequestIdentity.ts)
 * and per websocket connection (server.ts).
 *
 * A caller presents an API key (`Authorization: Bearer <key>`, or the same in
 * graphql-ws `connectionParams`). The key names its sandbox and role; the
 * gateway forwards both to the subgraphs in a short-lived signed token, which
 * is all a subgraph trusts. `x-sandbox` may restate the key's sandbox; naming
 * any other answers exactly as a sandbox that does not exist.
 */
import { bearerToken, looksLikeApiKey } from '../lib/auth/apiKeys.js';
import type { GatewayTokenSigner } from '../lib/auth/gatewayToken.js';
import type { Principal } from '../lib/auth/roles.js';
import type { RateLimiter } from '../lib/tenancy/rateLimiter.js';
import { sandboxDeleted } from '../lib/tenancy/deletedSandboxes.js';
import { DomainError, ErrorCode, httpStatusFor } from '../lib/errors.js';
import { headerValue } from '../lib/headers.js';
import { parseSandboxName } from '../lib/sandbox.js';
import type { ApiKeyChanges } from './apiKeyChanges.js';
import { AuthFailureLimiter } from './limits/authFailureLimiter.js';

export const SANDBOX_HEADER = 'x-sandbox';
export const AUTHORIZATION_HEADER = 'authorization';

export interface GatewayIdentity {
  readonly principal: Principal;
  /** The sandbox every subgraph call of this request is bound to (the key's). */
  readonly sandbox: string;
  /** Signed for the subgraphs; the API key itself never leaves the gateway. */
  readonly gatewayToken: string;
}

/** Where a request comes from: its socket's remote address, which failed authentications are counted by. */
export interface RequestClient {
  address?: string;
}

/** `headers` are a request's headers, or a websocket's upgrade headers merged with its connectionParams. */
export interface Authenticator {
  authenticate(headers: Readonly<Record<string, unknown>>, client?: RequestClient): Promise<GatewayIdentity>;
}

/**
 * Looks up an API key; rejects with UNAUTHENTICATED, saying the sandbox was deleted for a key its
 * deletion revoked (so the answer is the same whether this process hears of the key or the sandbox first).
 * Implemented by TenancyService.
 */
export type ApiKeyLookup = (key: string) => Promise<Principal>;

export interface ApiKeyAuthenticatorOptions {
  lookup: ApiKeyLookup;
  signer: GatewayTokenSigner;
  /**
   * How long a key's principal and signed token are reused before they are read
   * again. Without `keyChanges`, revoking a key takes effect within this time and
   * a request that finds its key expired waits for the read.
   */
  cacheTtlMs?: number;
  /**
   * Key changes as they are committed (apiKeyChanges.ts). While they are followed,
   * a changed key is dropped from the cache at once, so an expired entry is still
   * served (up to `maxStaleMs`) while one read refreshes it in the background.
   */
  keyChanges?: Pick<ApiKeyChanges, 'live' | 'listen'>;
  /**
   * Longest an entry is served past its lifetime while it is refreshed; within the
   * signed token's lifetime, so a served token never expires on its way.
   * @default 30 000 ms
   */
  maxStaleMs?: number;
  /**
   * Failed authentications per minute per client address; beyond it an address's
   * attempts are refused without a lookup. None means unlimited.
   */
  failuresPerMinute?: number;
  /**
   * Whether a sandbox was deleted (known in every process at once): a cached key of a
   * deleted sandbox is refused on its next request, not when its cache entry expires.
   */
  isSandboxDeleted?: (sandbox: string) => boolean;
  now?: () => number;
}

type CachedIdentityValue = Omit<GatewayIdentity, 'sandbox'>;

interface CachedIdentity {
  key: string;
  identity: Promise<CachedIdentityValue>;
  /** Set once the lookup succeeded: only a known-good entry is served stale. */
  keyId?: string;
  fetchedAt: number;
  refreshing: boolean;
}

const MAX_CACHED_KEYS = 10_000;

export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): Authenticator {
  const ttl = options.cacheTtlMs ?? 5_000;
  const maxStale = options.maxStaleMs ?? 30_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CachedIdentity>();
  const failures = options.failuresPerMinute === undefined ? undefined : new AuthFailureLimiter(options.failuresPerMinute, now);
  // Bumped by every key change: a lookup that started before one may have read the key as it was.
  let generation = 0;
  options.keyChanges?.listen({
    changed(keyId) {
      generation++;
      for (const [key, entry] of cache) if (entry.keyId === keyId) cache.delete(key);
    },
    reset() {
      generation++;
      cache.clear();
    },
  });

  const lookUp = (key: string): Promise<CachedIdentityValue> =>
    options.lookup(key).then(async (principal) => ({ principal, gatewayToken: await options.signer.sign(principal) }));

  /** Stores a lookup's outcome unless a key change came during it; a refused key is not remembered. */
  const remember = (entry: CachedIdentity, startedAt: number) => {
    const { key } = entry;
    entry.identity.then(
      (value) => {
        if (generation !== startedAt || cache.get(key) !== entry) {
          if (cache.get(key) === entry) cache.delete(key);
          return;
        }
        entry.keyId = value.principal.keyId ?? value.principal.sandbox;
      },
      () => {
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
  };

  const resolve = (key: string) => {
    const cached = cache.get(key);
    if (cached && isServable(cached)) return cached.identity;
    const entry: CachedIdentity = { key, identity: lookUp(key), fetchedAt: now(), refreshing: false };
    if (cache.size >= MAX_CACHED_KEYS) cache.clear();
    cache.set(key, entry);
    remember(entry, generation);
    return entry.identity;
  };

  /** Fresh, or expired but known good while changes are followed (then refreshed once in the background). */
  const isServable = (entry: CachedIdentity): boolean => {
    const age = now() - entry.fetchedAt;
    if (age < ttl) return true;
    if (entry.keyId === undefined || age >= ttl + maxStale || !options.keyChanges?.live()) return false;
    refresh(entry);
    return true;
  };

  const refresh = (entry: CachedIdentity) => {
    if (entry.refreshing) return;
    entry.refreshing = true;
    const startedAt = generation;
    const { key } = entry;
    lookUp(key).then(
      (value) => {
        entry.refreshing = false;
        // A change during the read drops the entry instead (the change may be this key's).
        if (generation !== startedAt || cache.get(key) !== entry) return;
        entry.identity = Promise.resolve(value);
        entry.keyId = value.principal.keyId ?? value.principal.sandbox;
        entry.fetchedAt = now();
      },
      (error: unknown) => {
        entry.refreshing = false;
        // Refused now (revoked, deleted): forget it. Another failure (the database away) leaves the entry to expire.
        if (error instanceof DomainError && error.code === ErrorCode.Unauthenticated && cache.get(key) === entry) cache.delete(key);
      },
    );
  };

  // Keys already known good answer from the cache; every other guess is counted against its address.
  const resolveCounted = async (key: string, address: string | undefined) => {
    const cached = cache.get(key);
    if (cached && isServable(cached)) return cached.identity;
    if (failures && address !== undefined) failures.check(address);
    try {
      if (!looksLikeApiKey(key)) throw invalidKey();
      return await resolve(key);
    } catch (error) {
      if (failures && address !== undefined && error instanceof DomainError && error.code === ErrorCode.Unauthenticated) {
        failures.recordFailure(address);
      }
      throw error;
    }
  };

  return {
    async authenticate(headers, client) {
      const key = bearerToken(headerValue(headers, AUTHORIZATION_HEADER));
      if (!key) {
        throw new DomainError(ErrorCode.Unauthenticated, 'An API key is required: send "Authorization: Bearer <key>"');
      }
      const requested = headerValue(headers, SANDBOX_HEADER);
      // An empty header names no sandbox, like an absent one: the key's own sandbox answers.
      const requestedSandbox = requested === undefined || requested === '' ? undefined : parseSandboxName(requested);
      const { principal, gatewayToken } = await resolveCounted(key, client?.address);
      if (options.isSandboxDeleted?.(principal.sandbox)) {
        cache.delete(key);
        throw sandboxDeleted(principal.sandbox);
      }
      if (requestedSandbox !== undefined && requestedSandbox !== principal.sandbox) {
        throw sandboxNotFound(requestedSandbox);
      }
      return { principal, sandbox: principal.sandbox, gatewayToken };
    },
  };
}

function invalidKey(): DomainError {
  return new DomainError(ErrorCode.Unauthenticated, 'A valid API key is required: send it as "Authorization: Bearer <key>"');
}

/** The same answer for a sandbox that exists but is not the key's and for one that does not exist. */
export function sandboxNotFound(name: string): DomainError {
  return new DomainError(ErrorCode.NotFound, `Sandbox ${JSON.stringify(name)} was not found`, { details: { id: name } });
}

/**
 * Charges one request (an HTTP request, a websocket connection or operation, an
 * admin call) to its key's budget; RATE_LIMITED once the budget is spent.
 */
export async function chargeRequest(rateLimiter: RateLimiter | undefined, principal: Principal): Promise<void> {
  const decision = await rateLimiter?.consume(principal.keyId ?? principal.sandbox);
  if (decision && !decision.allowed) {
    throw new DomainError(ErrorCode.RateLimited, `Too many requests for this API key; retry after ${decision.retryAfterSeconds} s`, {
      details: { retryAfterSeconds: decision.retryAfterSeconds },
    });
  }
}

/** HTTP status for a refused request. */
export function refusalStatus(error: DomainError): number {
  return httpStatusFor(error.code);
}

/** Headers of a refused HTTP request: its media type, and `Retry-After` when it was rate limited. */
export function refusalHeaders(error: DomainError): Record<string, string> {
  const retryAfter = error.details?.retryAfterSeconds;
  return {
    'content-type': 'application/graphql-response+json; charset=utf-8',
    ...(typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {}),
  };
}

/** The GraphQL-over-HTTP body of a refused request: the error's code and safe details only. */
export function refusalBody(error: DomainError): string {
  const extensions = { code: error.code, ...(error.details ? { details: error.details } : {}) };
  return JSON.stringify({ errors: [{ message: error.message, extensions }] });
}
