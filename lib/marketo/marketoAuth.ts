/**
 * Marketo's OAuth client-credentials tokens: one GET to the identity service,
 * `{ access_token, expires_in }` (3600 s). A token is reused until shortly
 * before it expires, and dropped when the REST API answers 601 (invalid) or 602
 * (expired). Concurrent callers share one request for a new token.
 */
import { ConnectorFailure, httpFailure } from '../connectors/failures.js';
import { isRecord, type HttpAnswer } from '../connectors/http.js';
import { tokenCacheKey, type TokenCache } from '../connectors/tokenCache.js';

/** Taken off a token's life, so a call started just before expiry does not carry a dead token. */
const EXPIRY_MARGIN_MS = 60_000;

export interface MarketoCredentials {
  identityUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface TokenSourceDeps {
  now: () => Date;
  cache: TokenCache;
  /** Sends the token request (inside the instance's call budget). */
  request: (url: string) => Promise<HttpAnswer>;
}

export class MarketoTokens {
  private pending: Promise<string> | undefined;
  private readonly cacheKey: string;

  constructor(
    private readonly credentials: MarketoCredentials,
    private readonly deps: TokenSourceDeps,
  ) {
    this.cacheKey = tokenCacheKey('marketo', credentials.identityUrl, credentials.clientId, credentials.clientSecret);
  }

  async get(): Promise<string> {
    const cached = this.deps.cache.get(this.cacheKey);
    if (cached && cached.expiresAt > this.deps.now().getTime()) return cached.token;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `token` (only that one: another caller may already hold a newer one). */
  invalidate(token: string): void {
    if (this.deps.cache.get(this.cacheKey)?.token === token) this.deps.cache.delete(this.cacheKey);
  }

  private async fetchToken(): Promise<string> {
    const url = new URL(`${this.credentials.identityUrl.replace(/\/+$/, '')}/oauth/token`);
    url.searchParams.set('grant_type', 'client_credentials');
    url.searchParams.set('client_id', this.credentials.clientId);
    url.searchParams.set('client_secret', this.credentials.clientSecret);
    const answer = await this.deps.request(url.toString());
    const body = isRecord(answer.body) ? answer.body : {};
    if (answer.status === 401 || answer.status === 400) {
      const code = typeof body.error === 'string' ? body.error.toUpperCase() : 'UNAUTHORIZED';
      const description = typeof body.error_description === 'string' ? body.error_description : 'Marketo refused the client credentials';
      throw new ConnectorFailure(`MARKETO_${code}`, description, false);
    }
    if (answer.status !== 200) throw httpFailure('MARKETO', answer.status, `Marketo's identity service answered HTTP ${answer.status}`);
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new ConnectorFailure('MARKETO_BAD_TOKEN_RESPONSE', "Marketo's identity service answered without an access token", true);
    }
    const expiresAt = this.deps.now().getTime() + Math.max(0, body.expires_in * 1000 - EXPIRY_MARGIN_MS);
    this.deps.cache.set(this.cacheKey, { token: body.access_token, expiresAt });
    return body.access_token;
  }
}
