/**
 * One execution for identical subscriptions started together.
 *
 * Without it every client subscription is executed on its own: the gateway
 * plans and runs it, and receives, fetches and projects each event once per
 * client (even when their subgraph subscription is shared,
 * sharedSubgraphSubscriptions.ts). 100 dashboards on one segment cost 100
 * executions of each event. Here subscriptions of the same sandbox and role,
 * with the same document, operation and variables, share one execution, and
 * each event reaches each of them through its own bounded queue: a subscriber
 * that falls `maxQueuedPerSubscriber` events behind ends with LIMIT_EXCEEDED,
 * and `onOverflow` lets the websocket server close its connection as a slow
 * consumer (subscriptionGuard.ts). Everything before execution
 * (authentication, limits, metrics) still runs for each subscription.
 *
 * A subscription joins a shared execution only while it has sent nothing yet
 * and opened at most `joinWindowMs` ago, so it receives what an execution of
 * its own would: the replay after an `after` cursor, the current audience size,
 * the segment as it is now (give or take the window, as for any change racing a
 * subscription's start). A subscription started later opens a new one. So the
 * sharing pays off when many clients subscribe at once: a dashboard shown on
 * many screens, clients reconnecting after a restart. Sandbox and role are in
 * the key because they are everything the subgraphs authorize on; a revoked
 * key's connection is closed by the guard, which ends its subscriptions and
 * leaves the execution to the others. The execution ends when its last
 * subscriber leaves.
 */
import { print } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { RequestIdentityContext } from '../plugins/useRequestIdentity.js';
import { JoinableStreams, type Upstream } from './fanOut.js';

type SubscribePayload = Parameters<NonNullable<GatewayPlugin<RequestIdentityContext>['onSubscribe']>>[0];
type SubscribeArgs = SubscribePayload['args'];
type SubscribeFunction = SubscribePayload['subscribeFn'];

export interface SharedSubscriptionsOptions {
  /** Events held for one subscriber that does not read; past it that subscriber ends with LIMIT_EXCEEDED. @default 10000 */
  maxQueuedPerSubscriber?: number;
  /** A subscriber fell `maxQueuedPerSubscriber` behind; `context` is its operation's (over a websocket, with its `socket`). */
  onOverflow?: (context: SubscribeArgs['contextValue']) => void;
  /** How long after it started an execution that has sent nothing may still be joined. @default 1000 */
  joinWindowMs?: number;
}

export function useSharedSubscriptions(options: SharedSubscriptionsOptions = {}): GatewayPlugin<RequestIdentityContext> {
  const executions = new JoinableStreams({ maxQueued: options.maxQueuedPerSubscriber ?? 10_000, joinWindowMs: options.joinWindowMs ?? 1_000 });
  const { onOverflow } = options;
  const share = (key: string, subscribe: SubscribeFunction, args: SubscribeArgs) => {
    const open = () => subscribe(args) as Promise<Upstream> | Upstream;
    return executions.join(key, open, { onOverflow: onOverflow && (() => onOverflow(args.contextValue)) });
  };
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const key = sharingKey(args);
      if (key === undefined) return;
      // The subscribe function's type is generic in the result's data; shared results pass through unchanged.
      setSubscribeFn(((current: SubscribeArgs) => share(key, subscribeFn, current)) as SubscribeFunction);
    },
  };
}

/** What makes two subscriptions interchangeable; undefined when the request has no identity. */
function sharingKey(args: SubscribeArgs): string | undefined {
  const context = args.contextValue as Partial<RequestIdentityContext> & { params?: { query?: unknown } };
  const principal = context.identity?.principal;
  if (!principal) return undefined;
  const query = typeof context.params?.query === 'string' ? context.params.query : print(args.document);
  return JSON.stringify([principal.sandbox, principal.role, args.operationName ?? null, query, args.variableValues ?? {}]);
}
