/**
 * One subgraph subscription for identical subgraph subscriptions started together.
 *
 * Identical client subscriptions already share one execution
 * (sharedSubscriptions.ts). Client subscriptions that differ, by the member
 * fields they select or by their operation name, still ask the segment
 * subgraph the same thing; without this each would open its own subscription
 * there, which runs its resolvers and sends every event once per client: 100
 * dashboards of one segment showing different fields cost 100 executions of
 * each event. Here subgraph subscriptions of the same sandbox and role, with
 * the same document and variables to the same subgraph, share one upstream
 * stream, and each event reaches each of them through its own queue (the
 * client's bound, SLOW_CONSUMER, sits further up, in sharedSubscriptions.ts).
 *
 * A subscription joins a shared stream only while that stream has sent
 * nothing yet and opened at most `joinWindowMs` ago, so it receives what a
 * stream of its own would: the replay after an `after` cursor, the current
 * audience size, the segment as it is now (give or take the window, as for any
 * change racing a subscription's start). A subscription started later opens a
 * new stream. Sandbox and role are in the key because they are everything the
 * subgraph authorizes on; a revoked key's connection is closed by the guard,
 * which ends its subscriptions and leaves the stream to the others. The stream
 * ends when its last subscriber leaves.
 */
import { print } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { RequestIdentityContext } from '../plugins/useRequestIdentity.js';
import { JoinableStreams, type Upstream } from './fanOut.js';

type SubgraphExecutePayload = Parameters<NonNullable<GatewayPlugin['onSubgraphExecute']>>[0];
type Executor = SubgraphExecutePayload['executor'];
type ExecutionRequest = SubgraphExecutePayload['executionRequest'];

export interface SharedSubgraphSubscriptionsOptions {
  /** Events held for one subscriber that does not read; past it that subscriber ends with LIMIT_EXCEEDED. @default 10000 */
  maxQueuedPerSubscriber?: number;
  /** How long after it opened a stream that has sent nothing may still be joined. @default 1000 */
  joinWindowMs?: number;
}

export function useSharedSubgraphSubscriptions(options: SharedSubgraphSubscriptionsOptions = {}): GatewayPlugin<RequestIdentityContext> {
  const streams = new JoinableStreams({ maxQueued: options.maxQueuedPerSubscriber ?? 10_000, joinWindowMs: options.joinWindowMs ?? 1_000 });
  return {
    onSubgraphExecute({ subgraphName, executionRequest, executor, setExecutor }) {
      if (executionRequest.operationType !== 'subscription') return;
      const shared = (request: ExecutionRequest) => {
        const key = sharingKey(subgraphName, request);
        if (key === undefined) return executor(request);
        const open = () => executor(withoutSignal(request)) as Promise<Upstream> | Upstream;
        return streams.join(key, open, { signal: request.signal ?? undefined });
      };
      // The executor type is generic in the result's data; the shared stream passes results through unchanged.
      setExecutor(shared as Executor);
    },
  };
}

/** The request without the cancel signal of the client subscription that happened to open the stream. */
function withoutSignal(request: ExecutionRequest): ExecutionRequest {
  const info = request.info as (Record<string, unknown> & { signal?: unknown }) | undefined;
  return { ...request, signal: undefined, info: info?.signal ? ({ ...info, signal: undefined } as unknown as ExecutionRequest['info']) : request.info };
}

/** What makes two subgraph subscriptions interchangeable; undefined when the request has no identity. */
function sharingKey(subgraphName: string, request: ExecutionRequest): string | undefined {
  const principal = (request.context as Partial<RequestIdentityContext> | undefined)?.identity?.principal;
  if (!principal) return undefined;
  return JSON.stringify([subgraphName, principal.sandbox, principal.role, request.operationName ?? null, print(request.document), request.variables ?? {}]);
}
