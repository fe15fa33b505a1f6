/** graphql-ws clients for subgraph tests: one operation, its first outcome, then dispose. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export type WsOutcome =
  | { kind: 'next'; value: unknown }
  | { kind: 'errors'; errors: Array<{ message: string; extensions?: Record<string, unknown> }> }
  | { kind: 'closed'; code: number; reason: string }
  | { kind: 'complete' };

export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

export function createWsClient(url: string, connectionParams: Record<string, unknown>, options: { lazy?: boolean } = {}): Client {
  return createClient({ url: wsUrl(url), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: options.lazy ?? true });
}

/** Runs one operation on `client` and resolves with whatever it gets first. */
export function firstOutcome(client: Client, query: string, variables: Record<string, unknown> = {}, timeoutMs = 5_000): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dispose();
      reject(new Error('no answer over the websocket in time'));
    }, timeoutMs);
    const settle = (outcome: WsOutcome) => {
      clearTimeout(timer);
      dispose();
      resolve(outcome);
    };
    const dispose = client.subscribe(
      { query, variables },
      {
        next: (value) => settle({ kind: 'next', value }),
        complete: () => settle({ kind: 'complete' }),
        error: (error: unknown) => {
          if (Array.isArray(error)) return settle({ kind: 'errors', errors: error });
          const close = error as { code?: number; reason?: string };
          if (typeof close?.code === 'number') return settle({ kind: 'closed', code: close.code, reason: String(close.reason ?? '') });
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      },
    );
  });
}
