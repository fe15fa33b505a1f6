/**
 * Why a call to a destination failed, and whether trying again can help.
 * Retryable: rate limits (Marketo 606 and 615, HTTP 429), timeouts (Marketo
 * 604), 5xx and network errors. Everything else (bad credentials, 4xx, Marketo
 * record codes 1004, 1005, 1007) is permanent: sending the same thing again
 * would fail again.
 */
export class ConnectorFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    /** The destination's own wait (Retry-After), when it named one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ConnectorFailure';
  }
}

/** Marketo's call-level codes that ask the caller to back off and try again. */
export const MARKETO_RETRYABLE_CODES: ReadonlySet<string> = new Set(['604', '606', '608', '611', '615']);

export function isRetryableHttpStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** `Retry-After` as milliseconds: delta seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

export function httpFailure(prefix: string, status: number, message: string, retryAfterMs?: number): ConnectorFailure {
  return new ConnectorFailure(`${prefix}_HTTP_${status}`, message, isRetryableHttpStatus(status), retryAfterMs);
}

/**
 * Any thrown value as a ConnectorFailure: timeouts, network errors (fetch's
 * "fetch failed" with a cause such as ECONNREFUSED or ENOTFOUND), and anything
 * else as CONNECTOR_ERROR, retryable, whose details stay in the logs.
 */
export function asConnectorFailure(error: unknown): ConnectorFailure {
  if (error instanceof ConnectorFailure) return error;
  if (!(error instanceof Error)) return new ConnectorFailure('CONNECTOR_ERROR', 'Unexpected error in the connector', true);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return new ConnectorFailure('TIMEOUT', 'The destination did not answer in time', true);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const systemCode = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  if (error.name === 'TypeError' && (error.message === 'fetch failed' || systemCode)) {
    return new ConnectorFailure('NETWORK_ERROR', `Could not reach the destination${systemCode ? ` (${systemCode})` : ''}`, true);
  }
  return new ConnectorFailure('CONNECTOR_ERROR', 'Unexpected error in the connector', true);
}
