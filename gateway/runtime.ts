/**
 * Hive Gateway's runtime on our supergraph: HTTP to subgraphs for queries and
 * mutations, graphql-ws to subgraphs for subscriptions (Apollo Server subgraphs
 * serve graphql-ws on their `/graphql` URL and no SSE), and the sandbox and
 * credentials forwarded on both.
 */
import { Agent } from 'node:http';
import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import wsTransport from '@graphql-mesh/transport-ws';
import { unifiedGraphHandler as routerRuntime } from '@graphql-hive/router-runtime';
import type { RequestLimits } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { RateLimiter } from '../lib/tenancy/rateLimiter.js';
import type { Authenticator } from './authenticate.js';
import { FORWARDED_HEADER_NAMES } from './forwardedHeaders.js';
import { toHiveLogger } from './hiveLogger.js';
import { useSharedSubgraphSubscriptions } from './live/sharedSubgraphSubscriptions.js';
import { useSharedSubscriptions, type SharedSubscriptionsOptions } from './live/sharedSubscriptions.js';
import { useSubgraphSubscriptionErrors } from './live/useSubgraphSubscriptionErrors.js';
import type { InFlightLimiter } from './limits/inFlightLimiter.js';
import { useMetrics } from './plugins/useMetrics.js';
import { requestIdHeaders, useRequestIdentity, type RequestIdentityContext } from './plugins/useRequestIdentity.js';
import { requestLimitPlugins } from './plugins/useRequestLimits.js';
import { createSubgraphFetch } from './subgraphFetch.js';

export interface GatewayRuntimeOptions {
  supergraphSdl: string;
  logger: Logger;
  authenticator: Authenticator;
  /** Per-key request rate; none means unlimited. */
  rateLimiter?: RateLimiter;
  /** Per-key HTTP requests in flight; none means uncapped. */
  inFlight?: InFlightLimiter;
  /** Depth, cost, alias and token limits per document; none means unlimited. */
  limits?: RequestLimits;
  /** Answer introspection queries (and suggest field names in errors). @default true */
  introspection?: boolean;
  /** Runs after the gateway's own plugins (identity, limits): the audit log, and tests that observe subgraph fetches. */
  plugins?: GatewayPlugin[];
  /**
   * Share one subgraph response among identical in-flight queries. Safe across
   * sandboxes (the forwarded headers are part of the key); off for benchmarks.
   * @default true
   */
  deduplicateSubgraphRequests?: boolean;
  /** Serve GraphiQL on GET /graphql. @default false */
  graphiql?: boolean;
  /** Each subscriber's queue of events not yet sent, and what happens when it overflows. */
  subscriptionQueue?: SharedSubscriptionsOptions;
}

export type CdpGatewayRuntime = GatewayRuntime<RequestIdentityContext>;

export function createRuntime(options: GatewayRuntimeOptions): CdpGatewayRuntime {
  // Keep-alive sockets to subgraphs: one TCP connection serves many fetches.
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

  const introspection = options.introspection ?? true;
  // The runtime's Response class is known once it exists; fetches start after that.
  const subgraphFetch = createSubgraphFetch(agent, () => runtime.fetchAPI.Response as never, requestIdHeaders);
  const runtime: CdpGatewayRuntime = createGatewayRuntime<RequestIdentityContext>({
    supergraph: options.supergraphSdl,
    // Hive Router's query planner (Rust, shipped prebuilt in the npm package) and its
    // executor: several times faster per request than the JavaScript stitching planner.
    unifiedGraphHandler: routerRuntime,
    logging: toHiveLogger(options.logger),
    // Given explicitly rather than resolved by dynamic import at the first request.
    transports: { http: httpTransport, ws: wsTransport },
    transportEntries: {
      '*.http': {
        options: {
          deduplicateInflightRequests: options.deduplicateSubgraphRequests ?? true,
          // Without a location the websocket goes to the subgraph's routing URL, ws:// for http://.
          subscriptions: {
            kind: 'ws',
            subgraph: '*',
            options: { connectionParams: subscriptionConnectionParams() },
          },
        },
      },
    },
    // Queries and mutations to subgraphs (subscriptions use the websocket transport).
    fetchAPI: { fetch: subgraphFetch as typeof fetch },
    // The identity plugin reads or makes each request's id and forwards it with the signed token,
    // without the built-in plugin's per-request logger and per-fetch header copies.
    requestId: false,
    plugins: () => [
      // First, so it also counts the requests the identity plugin refuses.
      useMetrics(),
      useRequestIdentity({
        authenticator: options.authenticator,
        rateLimiter: options.rateLimiter,
        inFlight: options.inFlight,
        graphiql: options.graphiql ?? false,
      }),
      ...(options.limits ? requestLimitPlugins(options.limits, { blockFieldSuggestions: !introspection }) : []),
      useSubgraphSubscriptionErrors<RequestIdentityContext>(),
      // After the gateway's own subgraph hooks: it shares the executor it is given (identical subgraph subscriptions started together).
      useSharedSubgraphSubscriptions(),
      ...(options.plugins ?? []),
      // Last: identical subscriptions started together share the subscribe function every other plugin has settled on.
      useSharedSubscriptions(options.subscriptionQueue),
    ],
    ...(introspection ? {} : { disableIntrospection: { disableIf: () => true } }),
    // Unexpected errors reach clients as a generic message, never with a stack trace.
    maskedErrors: { isDev: false },
    landingPage: false,
    graphiql: options.graphiql ?? false,
  });
  runtime.disposableStack.defer(() => agent.destroy());
  return runtime;
}

/**
 * The websocket transport interpolates its connectionParams from the request
 * context per subscription, and opens one subgraph connection per distinct
 * result, so subscribers of two sandboxes never share a subgraph socket.
 */
function subscriptionConnectionParams(): Record<string, string> {
  return Object.fromEntries(FORWARDED_HEADER_NAMES.map((name) => [name, `{context.forwardedHeaders.${name}}`]));
}
