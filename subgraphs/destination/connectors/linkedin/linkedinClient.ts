/**
 * Calls to LinkedIn's versioned Marketing API (`{apiUrl}/rest/...`) with the
 * headers it requires, inside the shared per-member budget (600 requests a
 * minute to /users, 300 to /companies), retrying 429 (after its Retry-After),
 * 5xx and network errors.
 */
import { createHash } from 'node:crypto';
import { withBudget, type BudgetLimits } from '../../../../lib/connectors/callBudget.js';
import type { ConnectorDeps } from '../connector.js';
import { ConnectorFailure, isRetryableHttpStatus, parseRetryAfter } from '../../../../lib/connectors/failures.js';
import { isRecord, joinUrl, send, type HttpAnswer } from '../../../../lib/connectors/http.js';
import { withRetries } from '../../../../lib/connectors/retry.js';

/** The Marketing API version sent as `LinkedIn-Version` unless the destination's config names another. */
export const LINKEDIN_VERSION = '202601';

export const LINKEDIN_LIMITS = {
  users: { callsPerWindow: 600, windowMs: 60_000 },
  companies: { callsPerWindow: 300, windowMs: 60_000 },
  other: { callsPerWindow: 100, windowMs: 60_000 },
} satisfies Record<string, BudgetLimits>;

export type LinkedInEndpoint = keyof typeof LINKEDIN_LIMITS;

export interface LinkedInConfig {
  apiUrl: string;
  adAccount: string;
  accessToken: string;
  version: string;
}

export interface LinkedInRequest {
  method: 'GET' | 'POST';
  path: string;
  json?: unknown;
  batchCreate?: boolean;
  endpoint: LinkedInEndpoint;
}

export class LinkedInClient {
  private readonly budgetKey: string;

  constructor(
    private readonly config: LinkedInConfig,
    private readonly deps: ConnectorDeps,
    private readonly limits: Record<LinkedInEndpoint, BudgetLimits> = LINKEDIN_LIMITS,
  ) {
    // LinkedIn's limits are per application and member; the access token stands for the member.
    const member = createHash('sha256').update(config.accessToken).digest('hex').slice(0, 16);
    this.budgetKey = `linkedin:${new URL(config.apiUrl).host.toLowerCase()}:${member}`;
  }

  call(request: LinkedInRequest): Promise<HttpAnswer> {
    return withRetries(
      async () => {
        const answer = await withBudget(this.deps.budget, `${this.budgetKey}:${request.endpoint}`, this.limits[request.endpoint], () => this.send(request));
        if (answer.status >= 200 && answer.status < 300) return answer;
        throw failureOf(answer, this.deps.now());
      },
      {
        maxAttempts: this.deps.maxAttempts ?? 4,
        sleep: this.deps.sleep,
        random: this.deps.random ?? Math.random,
        onRetry: (failure, attempt, delayMs) => this.deps.logger.warn({ code: failure.code, attempt, delayMs }, 'LinkedIn call failed; retrying'),
      },
    );
  }

  private send(request: LinkedInRequest): Promise<HttpAnswer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.config.accessToken}`,
      'linkedin-version': this.config.version,
      'x-restli-protocol-version': '2.0.0',
      accept: 'application/json',
    };
    if (request.batchCreate) headers['x-restli-method'] = 'BATCH_CREATE';
    if (request.json !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method: request.method, headers, body: request.json === undefined ? undefined : JSON.stringify(request.json) };
    return send(this.deps.fetch, joinUrl(this.config.apiUrl, request.path), init, this.deps.requestTimeoutMs);
  }
}

/** LinkedIn's error body `{ status, code, message }`: the code names the failure when present. */
function failureOf(answer: HttpAnswer, now: Date): ConnectorFailure {
  const body = isRecord(answer.body) ? answer.body : {};
  const code = typeof body.code === 'string' && /^[A-Z_]+$/.test(body.code) ? body.code : `HTTP_${answer.status}`;
  const message = typeof body.message === 'string' ? body.message : `LinkedIn answered HTTP ${answer.status}`;
  return new ConnectorFailure(`LINKEDIN_${code}`, message, isRetryableHttpStatus(answer.status), parseRetryAfter(answer.headers.get('retry-after'), now));
}
