/** A graphql-ws client that collects one subscription's events, for tests. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface CollectedSubscription<T> {
  events: T[];
  errors: unknown[];
  /** Resolves with the first event (or rejects after `timeoutMs`). */
  next(timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export function subscribe<T = Record<string, unknown>>(
  url: string,
  query: string,
  options: { connectionParams?: Record<string, string>; variables?: Record<string, unknown> } = {},
): CollectedSubscription<T> {
  const client: Client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: options.connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
  const events: T[] = [];
  const errors: unknown[] = [];
  const waiters: Array<(event: T) => void> = [];
  const unsubscribe = client.subscribe<T>(
    { query, variables: options.variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) {
          events.push(result.data as T);
          waiters.splice(0).forEach((resolve) => resolve(result.data as T));
        }
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  return {
    events,
    errors,
    next(timeoutMs = 5_000) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no subscription event within ${timeoutMs} ms (errors: ${JSON.stringify(errors)})`)),
          timeoutMs,
        );
        waiters.push((event) => {
          clearTimeout(timer);
          resolve(event);
        });
      });
    },
    async close() {
      unsubscribe();
      await client.dispose();
    },
  };
}

/**
 * Proves a subscription is live: runs `trigger` (which causes an event it should
 * hear) until an event arrives, since the subscription opens asynchronously
 * behind the gateway. Only then can its silence about something else mean anything.
 */
export async function untilHeard<T>(
  subscription: CollectedSubscription<T>,
  trigger: (attempt: number) => Promise<unknown>,
  what: string,
  attempts = 20,
): Promise<void> {
  for (let attempt = 0; subscription.events.length === 0; attempt++) {
    if (attempt === attempts) throw new Error(`timed out waiting for ${what} (errors: ${JSON.stringify(subscription.errors)})`);
    const next = subscription.next(750);
    next.catch(() => {}); // awaited below; a timeout is a reason to trigger again
    await trigger(attempt);
    await next.catch(() => {});
  }
}

/** Polls `condition` until it holds; for waiting on another process's side effects. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
