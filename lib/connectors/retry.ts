/**
 * Tries one call again on retryable failures, with exponential backoff and full
 * jitter, never sooner than the destination's Retry-After. Permanent failures
 * and the last attempt's failure are thrown to the caller.
 */
import { asConnectorFailure, ConnectorFailure } from './failures.js';

export interface RetryOptions {
  maxAttempts: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** @default 500 */
  baseDelayMs?: number;
  /** @default 30 000 */
  maxDelayMs?: number;
  /** Told before each wait, e.g. to log. */
  onRetry?: (failure: ConnectorFailure, attempt: number, delayMs: number) => void;
}

export function backoffDelay(attempt: number, failure: ConnectorFailure, options: RetryOptions): number {
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 30_000;
  const exponential = Math.min(cap, base * 2 ** (attempt - 1));
  // Half fixed, half random: spreads the retries of many workers without ever retrying at once.
  const jittered = exponential / 2 + options.random() * (exponential / 2);
  return Math.max(jittered, failure.retryAfterMs ?? 0);
}

export async function withRetries<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const failure = asConnectorFailure(error);
      if (!failure.retryable || attempt >= options.maxAttempts) throw failure;
      const delay = backoffDelay(attempt, failure, options);
      options.onRetry?.(failure, attempt, delay);
      await options.sleep(delay);
    }
  }
}
