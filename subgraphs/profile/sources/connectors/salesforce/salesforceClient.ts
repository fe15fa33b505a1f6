/**
 * Calls to one Salesforce org's REST API. OAuth 2.0 client credentials (a POST
 * of the connected app's id and secret to the login URL's token endpoint); the
 * token is kept in the process's token cache and fetched again when the API
 * answers 401 INVALID_SESSION_ID. Every answer's `Sforce-Limit-Info` header
 * (`api-usage=used/limit`, the org's rolling 24-hour request budget) is read,
 * and once the org has used `maxApiUsagePercent` of it the client stops with a
 * retryable failure rather than eat the budget other integrations need.
 * REQUEST_LIMIT_EXCEEDED (the budget spent) backs off the same way.
 */
import { ConnectorFailure, httpFailure } from '../../../../../lib/connectors/failures.js';
import { isRecord, joinUrl, send, type HttpAnswer } from '../../../../../lib/connectors/http.js';
import { withRetries } from '../../../../../lib/connectors/retry.js';
import { tokenCacheKey } from '../../../../../lib/connectors/tokenCache.js';
import type { SourceConnectorDeps } from '../sourceConnector.js';

export interface SalesforceConfig {
  instanceUrl: string;
  loginUrl: string;
  /** e.g. "62.0" */
  apiVersion: string;
  clientId: string;
  clientSecret: string;
  /** Share of the org's daily API requests the sync may take the org to. @default 90 */
  maxApiUsagePercent?: number;
}

export interface ApiUsage {
  used: number;
  limit: number;
}

/** Salesforce does not say how long a session lasts; the shortest session timeout it offers is 15 minutes. */
const TOKEN_LIFETIME_MS = 15 * 60_000;
/** How long to wait once the org's API budget is (nearly) spent: it is a rolling 24-hour window. */
const LIMIT_BACKOFF_MS = 15 * 60_000;

export class SalesforceClient {
  /** The org's API usage as of the last answer. */
  usage: ApiUsage | undefined;
  private pendingToken: Promise<string> | undefined;
  private readonly cacheKey: string;

  constructor(
    private readonly config: SalesforceConfig,
    private readonly deps: SourceConnectorDeps,
  ) {
    this.cacheKey = tokenCacheKey('salesforce', config.loginUrl, config.clientId, config.clientSecret);
  }

  /** `/services/data/v62.0` + path. */
  dataPath(path: string): string {
    return `/services/data/v${this.config.apiVersion}${path}`;
  }

  token(): Promise<string> {
    const cached = this.deps.tokenCache?.get(this.cacheKey);
    if (cached && cached.expiresAt > this.deps.now().getTime()) return Promise.resolve(cached.token);
    this.pendingToken ??= withRetries(() => this.fetchToken(), this.retryOptions()).finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  /** A JSON call; `path` is under the instance URL (a `nextRecordsUrl` is such a path). */
  async json(method: 'GET' | 'POST', path: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<unknown> {
    return (await this.call(method, path, options)).body;
  }

  /** A text call (Bulk API 2.0 results are CSV) with the answer's headers. */
  async text(path: string, query: Record<string, string> = {}): Promise<{ text: string; headers: Headers }> {
    const answer = await this.call('GET', path, { query, accept: 'text/csv' });
    return { text: typeof answer.body === 'string' ? answer.body : answer.body === null ? '' : JSON.stringify(answer.body), headers: answer.headers };
  }

  private async call(method: 'GET' | 'POST', path: string, options: { query?: Record<string, string>; body?: unknown; accept?: string }): Promise<HttpAnswer> {
    this.checkBudget();
    const outcome = await withRetries(async () => {
      let token = await this.token();
      let answer = await this.send(method, path, options, token);
      if (answer.status === 401) {
        if (this.deps.tokenCache?.get(this.cacheKey)?.token === token) this.deps.tokenCache.delete(this.cacheKey);
        token = await this.token();
        answer = await this.send(method, path, options, token);
      }
      this.readUsage(answer.headers);
      if (answer.status >= 200 && answer.status < 300) return answer;
      const failure = failureOf(answer);
      // The org's budget comes back over hours: the sync backs off as a whole instead of retrying the call.
      if (failure.code === 'SALESFORCE_REQUEST_LIMIT_EXCEEDED') return failure;
      throw failure;
    }, this.retryOptions());
    if (outcome instanceof ConnectorFailure) throw outcome;
    return outcome;
  }

  private send(method: string, path: string, options: { query?: Record<string, string>; body?: unknown; accept?: string }, token: string): Promise<HttpAnswer> {
    const url = new URL(joinUrl(this.config.instanceUrl, path));
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: options.accept ?? 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    return send(this.deps.fetch, url.toString(), { method, headers, body }, this.deps.requestTimeoutMs);
  }

  private async fetchToken(): Promise<string> {
    const answer = await send(
      this.deps.fetch,
      joinUrl(this.config.loginUrl, '/services/oauth2/token'),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.config.clientId, client_secret: this.config.clientSecret }).toString(),
      },
      this.deps.requestTimeoutMs,
    );
    const body = isRecord(answer.body) ? answer.body : {};
    if (answer.status === 400 || answer.status === 401) {
      const code = typeof body.error === 'string' ? body.error.toUpperCase() : 'UNAUTHORIZED';
      const description = typeof body.error_description === 'string' ? body.error_description : 'Salesforce refused the client credentials';
      throw new ConnectorFailure(`SALESFORCE_${code}`, `${description}: check the connected app's client id and secret`, false);
    }
    if (answer.status !== 200) throw httpFailure('SALESFORCE', answer.status, `Salesforce's token endpoint answered HTTP ${answer.status}`);
    if (typeof body.access_token !== 'string') throw new ConnectorFailure('SALESFORCE_BAD_TOKEN_RESPONSE', 'Salesforce answered without an access token', true);
    this.deps.tokenCache?.set(this.cacheKey, { token: body.access_token, expiresAt: this.deps.now().getTime() + TOKEN_LIFETIME_MS });
    return body.access_token;
  }

  private readUsage(headers: Headers): void {
    const match = /api-usage=(\d+)\/(\d+)/.exec(headers.get('sforce-limit-info') ?? '');
    if (match) this.usage = { used: Number(match[1]), limit: Number(match[2]) };
  }

  private checkBudget(): void {
    const ceiling = this.config.maxApiUsagePercent ?? 90;
    if (!this.usage || this.usage.limit === 0 || (this.usage.used / this.usage.limit) * 100 < ceiling) return;
    throw new ConnectorFailure(
      'SALESFORCE_API_BUDGET',
      `The org has used ${this.usage.used} of its ${this.usage.limit} daily API requests (the sync stops at ${ceiling}%); it resumes when usage falls`,
      true,
      LIMIT_BACKOFF_MS,
    );
  }

  private retryOptions() {
    return {
      maxAttempts: this.deps.maxAttempts ?? 4,
      sleep: this.deps.sleep,
      random: this.deps.random ?? Math.random,
      onRetry: (failure: ConnectorFailure, attempt: number, delayMs: number) =>
        this.deps.logger.warn({ code: failure.code, attempt, delayMs }, 'Salesforce call failed; retrying'),
    };
  }
}

/** Salesforce answers errors as `[{ message, errorCode }]`. */
function failureOf(answer: HttpAnswer): ConnectorFailure {
  const first: unknown = Array.isArray(answer.body) ? answer.body[0] : answer.body;
  const errorCode = isRecord(first) && typeof first.errorCode === 'string' ? first.errorCode : undefined;
  const message = isRecord(first) && typeof first.message === 'string' ? first.message : `Salesforce answered HTTP ${answer.status}`;
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') return new ConnectorFailure('SALESFORCE_REQUEST_LIMIT_EXCEEDED', message, true, LIMIT_BACKOFF_MS);
  if (errorCode === 'INVALID_SESSION_ID') return new ConnectorFailure('SALESFORCE_INVALID_SESSION_ID', message, false);
  if (errorCode) return new ConnectorFailure(`SALESFORCE_${errorCode}`, message, answer.status >= 500 || answer.status === 429);
  return httpFailure('SALESFORCE', answer.status, message);
}
