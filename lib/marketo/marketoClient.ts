/**
 * Calls to one Marketo instance's REST API. Every HTTP request (token requests
 * included) runs inside the instance's shared call budget, so all worker
 * processes together stay within 100 calls per 20 s and 10 in flight. Marketo
 * answers call-level errors as HTTP 200 with `success: false`: 601/602 get a new
 * token and one more try; 604, 606, 615 (and 608, 611) back off and retry;
 * anything else is permanent.
 */
import { withBudget, type BudgetLimits, type CallBudget } from '../connectors/callBudget.js';
import { ConnectorFailure, httpFailure, MARKETO_RETRYABLE_CODES } from '../connectors/failures.js';
import { isRecord, joinUrl, send, type FetchFn, type HttpAnswer } from '../connectors/http.js';
import { withRetries } from '../connectors/retry.js';
import type { TokenCache } from '../connectors/tokenCache.js';
import type { Logger } from '../logger.js';
import { MarketoTokens, type MarketoCredentials } from './marketoAuth.js';

/** Marketo's published limits per instance. */
export const MARKETO_LIMITS: BudgetLimits = { callsPerWindow: 100, windowMs: 20_000, maxConcurrent: 10 };
/** Records per leads.json write, values per filter, ids per list call. */
export const MARKETO_BATCH_LIMIT = 300;

/** What a Marketo client needs; destination connectors and sources pass the same budget and token cache. */
export interface MarketoClientDeps {
  fetch: FetchFn;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  budget: CallBudget;
  logger: Logger;
  /** In [0, 1): jitter of backoff delays. @default Math.random */
  random?: () => number;
  tokenCache?: TokenCache;
  /** How many times one call is tried on rate limits, timeouts, 5xx and network errors. @default 4 */
  maxAttempts?: number;
  /** Per-request timeout. @default 30 000 ms */
  requestTimeoutMs?: number;
}

export interface MarketoConfig extends MarketoCredentials {
  restUrl: string;
}

export interface MarketoRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Under restUrl, e.g. `/v1/leads.json`, or under the Bulk API's base (restUrl's sibling `/bulk`) with `api: 'bulk'`. */
  path: string;
  /** @default 'rest' */
  api?: 'rest' | 'bulk';
  query?: Record<string, string>;
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded (reads with long filters use POST with `_method=GET`). */
  form?: Record<string, string>;
}

export interface MarketoSuccess {
  result: unknown[];
  nextPageToken?: string;
  moreResult?: boolean;
}

const TOKEN_ERRORS = new Set(['601', '602']);

export class MarketoClient {
  readonly instanceKey: string;
  private readonly tokens: MarketoTokens;

  constructor(
    private readonly config: MarketoConfig,
    private readonly deps: MarketoClientDeps,
    private readonly limits: BudgetLimits = MARKETO_LIMITS,
  ) {
    this.instanceKey = `marketo:${new URL(config.restUrl).host.toLowerCase()}`;
    this.tokens = new MarketoTokens(config, {
      now: deps.now,
      cache: deps.tokenCache ?? new Map(),
      request: (url) => this.budgeted(() => send(deps.fetch, url, { method: 'GET' }, deps.requestTimeoutMs)),
    });
  }

  /** Authenticates without reading or writing anything. */
  token(): Promise<string> {
    return withRetries(() => this.tokens.get(), this.retryOptions());
  }

  async call(request: MarketoRequest): Promise<MarketoSuccess> {
    return withRetries(async () => {
      let token = await this.tokens.get();
      let answer = await this.budgeted(() => this.send(request, token));
      if (TOKEN_ERRORS.has(firstErrorCode(answer) ?? '')) {
        this.tokens.invalidate(token);
        token = await this.tokens.get();
        answer = await this.budgeted(() => this.send(request, token));
      }
      return interpret(answer);
    }, this.retryOptions());
  }

  /** A Bulk Extract file (CSV text); Marketo answers errors about it as JSON. */
  async download(request: MarketoRequest): Promise<string> {
    return withRetries(async () => {
      let token = await this.tokens.get();
      let answer = await this.budgeted(() => this.send(request, token));
      if (TOKEN_ERRORS.has(firstErrorCode(answer) ?? '')) {
        this.tokens.invalidate(token);
        token = await this.tokens.get();
        answer = await this.budgeted(() => this.send(request, token));
      }
      if (answer.status === 200 && typeof answer.body === 'string') return answer.body;
      if (answer.status === 200 && answer.body === null) return '';
      interpret(answer);
      throw new ConnectorFailure('MARKETO_BAD_RESPONSE', 'Marketo answered a file request with JSON but no error', true);
    }, this.retryOptions());
  }

  private retryOptions() {
    return {
      maxAttempts: this.deps.maxAttempts ?? 4,
      sleep: this.deps.sleep,
      random: this.deps.random ?? Math.random,
      onRetry: (failure: ConnectorFailure, attempt: number, delayMs: number) =>
        this.deps.logger.warn({ instance: this.instanceKey, code: failure.code, attempt, delayMs }, 'Marketo call failed; retrying'),
    };
  }

  private budgeted<T>(call: () => Promise<T>): Promise<T> {
    return withBudget(this.deps.budget, this.instanceKey, this.limits, call);
  }

  private send(request: MarketoRequest, token: string): Promise<HttpAnswer> {
    const base = request.api === 'bulk' ? bulkUrl(this.config.restUrl) : this.config.restUrl;
    const url = new URL(joinUrl(base, request.path));
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    }
    return send(this.deps.fetch, url.toString(), { method: request.method, headers, body }, this.deps.requestTimeoutMs);
  }
}

/** Marketo serves the Bulk API beside the REST API: `https://<munchkin>.mktorest.com/rest` -> `.../bulk`. */
export function bulkUrl(restUrl: string): string {
  return restUrl.replace(/\/+$/, '').replace(/\/rest$/, '') + '/bulk';
}

function firstErrorCode(answer: HttpAnswer): string | undefined {
  if (!isRecord(answer.body) || answer.body.success !== false || !Array.isArray(answer.body.errors)) return undefined;
  const first: unknown = answer.body.errors[0];
  return isRecord(first) && first.code !== undefined ? String(first.code) : undefined;
}

function interpret(answer: HttpAnswer): MarketoSuccess {
  if (answer.status !== 200) throw httpFailure('MARKETO', answer.status, `Marketo answered HTTP ${answer.status}`);
  const body = answer.body;
  if (!isRecord(body)) throw new ConnectorFailure('MARKETO_BAD_RESPONSE', 'Marketo answered with something other than JSON', true);
  if (body.success === false) {
    const first: unknown = Array.isArray(body.errors) ? body.errors[0] : undefined;
    const code = isRecord(first) && first.code !== undefined ? String(first.code) : 'UNKNOWN';
    const message = isRecord(first) && typeof first.message === 'string' ? first.message : 'Marketo refused the call';
    throw new ConnectorFailure(`MARKETO_${code}`, message, MARKETO_RETRYABLE_CODES.has(code) || TOKEN_ERRORS.has(code));
  }
  return {
    result: Array.isArray(body.result) ? body.result : [],
    nextPageToken: typeof body.nextPageToken === 'string' ? body.nextPageToken : undefined,
    moreResult: body.moreResult === true,
  };
}
