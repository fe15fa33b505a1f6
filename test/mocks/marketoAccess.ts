/**
 * What a Marketo Engage instance enforces on every call, whichever API is behind it
 * (the lead and list APIs a destination writes, the Bulk Extract and activity APIs
 * a source reads): client-credential tokens from the identity endpoint (the same
 * token until it expires, its remaining lifetime in `expires_in`), the token in an
 * `Authorization: Bearer` header only (Marketo stopped taking it as an
 * `access_token` query parameter in 2026) with 601 unknown and 602 expired, 606
 * beyond `callsPerWindow` calls in any `windowMs` and 615 beyond `maxConcurrent` in
 * flight, and the REST envelope: HTTP 200 with `success: false` for call-level errors.
 */
import { isObject, SlidingWindow, startMockServer, type MockReply, type MockRequest } from './httpServer.js';

export interface MarketoAccessOptions {
  clientId?: string;
  clientSecret?: string;
  /** The mock's clock (token expiry and rate windows). @default Date.now */
  now?: () => number;
  callsPerWindow?: number;
  windowMs?: number;
  maxConcurrent?: number;
  tokenTtlSeconds?: number;
}

/** The counters of a mock's state the access rules keep up to date. */
export interface MarketoAccessCounters {
  refused: { rate: number; concurrency: number; auth: number };
  tokensIssued: number;
  maxConcurrentSeen: number;
}

export const marketoFail = (code: string, message: string): MockReply => ({
  status: 200,
  body: { requestId: 'mock', success: false, errors: [{ code, message }] },
});

export const marketoOk = (result: unknown[], extra: Record<string, unknown> = {}): MockReply => ({
  status: 200,
  body: { requestId: 'mock', success: true, result, ...extra },
});

/** The code of a call-level error reply (`success: false`), as the mocks record it. */
export function marketoErrorCode(reply: MockReply): string | undefined {
  const body = reply.body;
  return isObject(body) && body.success === false && Array.isArray(body.errors) && isObject(body.errors[0]) ? String(body.errors[0].code) : undefined;
}

/**
 * The access rules of one instance, counting into `counters`. `defaults` names the
 * client credentials a mock accepts when the test gives none.
 */
export function marketoAccess(counters: MarketoAccessCounters, options: MarketoAccessOptions, defaults: { clientId: string; clientSecret: string }) {
  const now = options.now ?? Date.now;
  const clientId = options.clientId ?? defaults.clientId;
  const clientSecret = options.clientSecret ?? defaults.clientSecret;
  const limits = { calls: options.callsPerWindow ?? 100, concurrent: options.maxConcurrent ?? 10 };
  const window = new SlidingWindow(options.windowMs ?? 20_000);
  const tokens = new Map<string, number>();
  let currentToken: string | undefined;
  let tokenCounter = 0;
  let inFlight = 0;

  function token(request: MockRequest): MockReply {
    const q = request.url.searchParams;
    if (q.get('grant_type') !== 'client_credentials' || q.get('client_id') !== clientId || q.get('client_secret') !== clientSecret) {
      counters.refused.auth++;
      return { status: 401, body: { error: 'unauthorized', error_description: 'Bad client credentials' } };
    }
    const at = now();
    if (!currentToken || (tokens.get(currentToken) ?? 0) <= at) {
      currentToken = `tok-${++tokenCounter}`;
      tokens.set(currentToken, at + (options.tokenTtlSeconds ?? 3600) * 1000);
      counters.tokensIssued++;
    }
    const expiresIn = Math.ceil((tokens.get(currentToken)! - at) / 1000);
    return { status: 200, body: { access_token: currentToken, token_type: 'bearer', expires_in: expiresIn, scope: 'api@example.com' } };
  }

  return {
    clientId,
    clientSecret,
    now,
    token,
    get inFlight() {
      return inFlight;
    },
    get maxCallsInWindow() {
      return window.maxSeen;
    },
    /** One API call: 615 or 606 when it would break the limits; otherwise `handle` answers it, counted in flight meanwhile. */
    async admit(request: MockRequest, handle: () => Promise<MockReply> | MockReply): Promise<MockReply> {
      if (inFlight >= limits.concurrent) {
        counters.refused.concurrency++;
        return marketoFail('615', 'Concurrent access limit reached');
      }
      if (!window.tryAdd(request.arrivedAt, limits.calls)) {
        counters.refused.rate++;
        return marketoFail('606', `Max rate limit '${limits.calls}' exceeded with in '${window.windowMs / 1000}' secs`);
      }
      inFlight++;
      counters.maxConcurrentSeen = Math.max(counters.maxConcurrentSeen, inFlight);
      try {
        return await handle();
      } finally {
        inFlight--;
      }
    },
    /** 601 or 602 when the call carries no live token in its Authorization header; undefined when it does. */
    tokenRefusal(request: MockRequest): MockReply | undefined {
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const expiry = bearer ? tokens.get(bearer) : undefined;
      if (expiry === undefined) return marketoFail('601', 'Access token invalid');
      if (expiry <= now()) return marketoFail('602', 'Access token expired');
      return undefined;
    },
    /** Every token issued so far expires now (602 on its next use). */
    expireTokens(): void {
      for (const key of tokens.keys()) tokens.set(key, now());
    },
  };
}

export type MarketoAccess = ReturnType<typeof marketoAccess>;

/**
 * An instance's HTTP server: the identity endpoint, and `api` for every path under
 * one of `apiRoots` (others are 404); `record` sees each API call with the
 * call-level error code it was answered, if any. Answers what a connector is
 * configured with (the REST and identity URLs, the client credentials).
 */
export async function startMarketoServer(
  access: MarketoAccess,
  { apiRoots, api, record }: {
    apiRoots: readonly string[];
    api: (request: MockRequest) => Promise<MockReply>;
    record: (request: MockRequest, errorCode: string | undefined) => void;
  },
) {
  const server = await startMockServer(async (request) => {
    const path = request.url.pathname;
    if (path === '/identity/oauth/token' && request.method === 'GET') return access.token(request);
    if (!apiRoots.some((root) => path.startsWith(root))) return { status: 404, body: { message: 'Not found' } };
    const reply = await api(request);
    record(request, marketoErrorCode(reply));
    return reply;
  }, access.now);
  return {
    ...server,
    restUrl: `${server.url}/rest`,
    identityUrl: `${server.url}/identity`,
    clientId: access.clientId,
    clientSecret: access.clientSecret,
    /** Every token issued so far expires now (602 on its next use). */
    expireTokens: access.expireTokens,
  };
}
