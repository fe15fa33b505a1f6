/**
 * A graphql-ws client for the live suites: each subscription collects its
 * results, `take(n)` awaits the n-th event, `failed` the first error, and
 * `closed` the socket's close code and reason.
 */
import type { ClientRequestArgs } from 'node:http';
import { createConnection, type NetConnectOpts, type Socket } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

export interface LiveSubscription<T> {
  readonly events: T[];
  readonly errors: unknown[];
  /** Resolves with the first `n` events once there are that many. */
  take(n: number): Promise<T[]>;
  /** Resolves with the first error (a GraphQL error list or a close event). */
  failed(): Promise<unknown>;
  stop(): void;
}

export interface LiveClient {
  subscribe<T>(query: string, variables?: Record<string, unknown>): LiveSubscription<T>;
  /** Resolves when the socket closes. */
  closed: Promise<Closed>;
  /** Stops reading from the socket (a slow consumer); the server's sends back up. */
  pauseReading(): void;
  resumeReading(): void;
  dispose(): Promise<void>;
}

export function liveClient(url: string, connectionParams: Record<string, string>): LiveClient {
  let socket: Socket | undefined;
  let resolveClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => {
    resolveClosed = resolve;
  });
  // The socket is created here so a test can pause it; ws uses it for the upgrade.
  class PausableWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, {
        createConnection: (options: ClientRequestArgs) => {
          socket = createConnection(options as NetConnectOpts);
          return socket;
        },
      });
    }
  }
  const client: Client = createClient({
    url,
    webSocketImpl: PausableWebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    // Closes are observed through `closed` and the subscriptions' errors.
    onNonLazyError: () => {},
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        resolveClosed({ code, reason: String(reason) });
      },
    },
  });
  client.on('error', () => {});

  return {
    closed,
    pauseReading: () => socket?.pause(),
    resumeReading: () => socket?.resume(),
    dispose: () => client.dispose() as Promise<void>,
    subscribe<T>(query: string, variables: Record<string, unknown> = {}) {
      const events: T[] = [];
      const errors: unknown[] = [];
      const waiters: Array<() => void> = [];
      const wake = () => waiters.splice(0).forEach((resolve) => resolve());
      const unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            if (result.errors) errors.push(result.errors);
            if (result.data) events.push(result.data as T);
            wake();
          },
          error: (error) => {
            errors.push(error);
            wake();
          },
          complete: () => wake(),
        },
      );
      const until = async (condition: () => boolean) => {
        while (!condition()) await new Promise<void>((resolve) => waiters.push(resolve));
      };
      return {
        events,
        errors,
        async take(n) {
          await until(() => events.length >= n || errors.length > 0);
          if (events.length < n) throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
          return events.slice(0, n);
        },
        async failed() {
          await until(() => errors.length > 0);
          return errors[0];
        },
        stop: unsubscribe,
      };
    },
  };
}
