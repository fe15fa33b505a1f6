/**
 * What the gateway enforces on live connections, beside authentication:
 *
 * - Caps: websocket connections per key, subscriptions per connection and per
 *   key. A connection over its key's cap is closed with 4420 `LIMIT_EXCEEDED: ...`;
 *   a subscription over a cap gets an `error` message with `extensions.code`
 *   LIMIT_EXCEEDED and the connection stays open. Per-connection counts are exact;
 *   per-key counts are this process's (SubscriptionLimits says so).
 * - Slow consumers: each subscription's results wait in a bounded queue (its
 *   own in the execution it shares, sharedSubscriptions.ts); a client that falls
 *   `queueLimit` events behind is closed with 4413 `SLOW_CONSUMER: ...` here and
 *   resumes with its cursor.
 * - Lasting authorization: every `recheckIntervalMs` each open connection's key
 *   is checked again; a revoked key closes its connections with 4401
 *   `UNAUTHENTICATED: ...`, which ends their subscriptions. The reason says the
 *   sandbox was deleted when it was, whether the gateway heard of the deletion or
 *   of the key's revocation first (deleting a sandbox revokes its keys).
 */
import { getOperationAST, GraphQLError, parse } from 'graphql';
import type { SubscriptionLimits } from '../../lib/config.js';
import { ErrorCode, findDomainError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { closeReason, LiveCloseCode } from '../../lib/subgraph/websocket.js';
import { SandboxDeletedError } from '../../lib/tenancy/deletedSandboxes.js';
import type { Authenticator, GatewayIdentity } from '../authenticate.js';

/** The part of a websocket the guard uses. */
export interface GuardedSocket {
  close(code: number, reason: string): void;
}

/** graphql-ws's 4401 Unauthorized. */
const UNAUTHORIZED = 4401;

interface ConnectionState {
  readonly key: string;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly subscriptions: Set<string>;
}

export interface SubscriptionGuardOptions {
  limits: SubscriptionLimits;
  authenticator: Authenticator;
  logger: Logger;
  /** Largest document parsed to tell subscriptions from other operations. */
  maxTokens?: number;
}

export class SubscriptionGuard {
  private readonly connections = new Map<GuardedSocket, ConnectionState>();
  private readonly connectionsPerKey = new Map<string, number>();
  private readonly subscriptionsPerKey = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private rechecking = false;

  constructor(private readonly options: SubscriptionGuardOptions) {
    this.timer = setInterval(() => void this.recheckKeys(), options.limits.recheckIntervalMs);
    this.timer.unref();
  }

  /** Events one subscription may have waiting for its client. */
  get queueLimit(): number {
    return this.options.limits.queueLimit;
  }

  /** After authentication: admits the connection, or closes it with 4420 and answers false. */
  admitConnection(socket: GuardedSocket, identity: GatewayIdentity, headers: Readonly<Record<string, unknown>>): boolean {
    const key = keyOf(identity);
    const { maxConnectionsPerKey } = this.options.limits;
    const open = this.connectionsPerKey.get(key) ?? 0;
    if (open >= maxConnectionsPerKey) {
      const message = `This API key already has ${maxConnectionsPerKey} websocket connections open; close one first`;
      socket.close(LiveCloseCode.ConnectionLimitExceeded, closeReason(ErrorCode.LimitExceeded, message));
      return false;
    }
    this.connectionsPerKey.set(key, open + 1);
    this.connections.set(socket, { key, headers, subscriptions: new Set() });
    return true;
  }

  /**
   * Before an operation starts: a subscription over a cap is refused with
   * LIMIT_EXCEEDED; an admitted one holds its slot until `release`.
   */
  admitSubscription(socket: GuardedSocket, id: string, payload: { query: string; operationName?: string | null }): GraphQLError[] | undefined {
    const state = this.connections.get(socket);
    if (!state || !this.isSubscription(payload)) return undefined;
    const { maxPerConnection, maxPerKey } = this.options.limits;
    const perKey = this.subscriptionsPerKey.get(state.key) ?? 0;
    let refusal: string | undefined;
    if (state.subscriptions.size >= maxPerConnection) {
      refusal = `This connection already has ${maxPerConnection} subscriptions; complete one or open another connection`;
    } else if (perKey >= maxPerKey) {
      refusal = `This API key already has ${maxPerKey} subscriptions open; complete one first`;
    }
    if (refusal) {
      const limit = state.subscriptions.size >= maxPerConnection ? maxPerConnection : maxPerKey;
      return [new GraphQLError(refusal, { extensions: { code: ErrorCode.LimitExceeded, details: { limit } } })];
    }
    state.subscriptions.add(id);
    this.subscriptionsPerKey.set(state.key, perKey + 1);
    return undefined;
  }

  /** One of the connection's subscriptions fell `queueLimit` events behind: the client is closed with SLOW_CONSUMER. */
  closeSlowConsumer(socket: GuardedSocket): void {
    const message = `more than ${this.options.limits.queueLimit} events waited for this client; reconnect and resume with the last cursor`;
    socket.close(LiveCloseCode.SlowConsumer, closeReason('SLOW_CONSUMER', message));
  }

  /** The operation ended (completed, failed or cancelled). */
  release(socket: GuardedSocket, id: string): void {
    const state = this.connections.get(socket);
    if (!state?.subscriptions.delete(id)) return;
    decrement(this.subscriptionsPerKey, state.key, 1);
  }

  /** The socket closed: everything it held is released. */
  disconnect(socket: GuardedSocket): void {
    const state = this.connections.get(socket);
    if (!state) return;
    this.connections.delete(socket);
    decrement(this.subscriptionsPerKey, state.key, state.subscriptions.size);
    decrement(this.connectionsPerKey, state.key, 1);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Checks each open connection's key again, once per key; closes the connections of keys no longer valid. */
  async recheckKeys(): Promise<void> {
    if (this.rechecking) return;
    this.rechecking = true;
    try {
      const byKey = new Map<string, GuardedSocket[]>();
      for (const [socket, state] of this.connections) byKey.set(state.key, [...(byKey.get(state.key) ?? []), socket]);
      for (const sockets of byKey.values()) {
        const state = this.connections.get(sockets[0]!);
        if (!state) continue;
        try {
          await this.options.authenticator.authenticate(state.headers);
        } catch (error) {
          const domain = findDomainError(error);
          // Only a refusal ends connections: a database that does not answer is not a revocation.
          if (!domain || (domain.code !== ErrorCode.Unauthenticated && domain.code !== ErrorCode.NotFound)) {
            this.options.logger.warn({ err: error }, 'Could not check an open connection\'s API key again');
            continue;
          }
          const message = domain instanceof SandboxDeletedError ? domain.message : 'The API key was revoked';
          const reason = closeReason(ErrorCode.Unauthenticated, message);
          for (const socket of sockets) socket.close(UNAUTHORIZED, reason);
        }
      }
    } finally {
      this.rechecking = false;
    }
  }

  private isSubscription(payload: { query: string; operationName?: string | null }): boolean {
    try {
      const document = parse(payload.query, { maxTokens: this.options.maxTokens });
      return getOperationAST(document, payload.operationName ?? undefined)?.operation === 'subscription';
    } catch {
      return false; // the runtime answers what does not parse
    }
  }
}

/** What per-key caps count by: the key's id (the sandbox for platform-internal principals). */
function keyOf(identity: GatewayIdentity): string {
  return identity.principal.keyId ?? `sandbox:${identity.sandbox}`;
}

function decrement(counts: Map<string, number>, key: string, by: number): void {
  const left = (counts.get(key) ?? 0) - by;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

