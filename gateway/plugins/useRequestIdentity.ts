/**
 * Authenticates each HTTP request at the edge (a refused request never reaches
 * GraphQL execution), applies the per-key rate limit, and attaches the identity
 * and the headers to forward to its context; websocket operations get theirs
 * from the connection's headers and connectionParams, already checked when the
 * socket connected (server.ts).
 *
 * Every HTTP fetch to a subgraph then carries the forwarded headers.
 * Subscriptions carry them as the subgraph websocket's connectionParams
 * instead (runtime.ts), so they are not also copied into the subscribe message.
 */
import type { IncomingMessage } from 'node:http';
import { getOperationAST } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { DomainError } from '../../lib/errors.js';
import type { RateLimiter } from '../../lib/tenancy/rateLimiter.js';
import {
  chargeRequest,
  refusalBody,
  refusalHeaders,
  refusalStatus,
  type Authenticator,
  type GatewayIdentity,
} from '../authenticate.js';
import { buildForwardedHeaders, type ForwardedHeaders } from '../forwardedHeaders.js';
import type { InFlightLimiter } from '../limits/inFlightLimiter.js';

export interface RequestIdentityContext {
  identity: GatewayIdentity;
  forwardedHeaders: ForwardedHeaders;
}

export interface RequestIdentityOptions {
  authenticator: Authenticator;
  rateLimiter?: RateLimiter;
  /** Whether GET /graphql serves GraphiQL's page, which carries no key. */
  graphiql: boolean;
  /** Caps each key's HTTP requests in flight; none means uncapped. */
  inFlight?: InFlightLimiter;
}

export function useRequestIdentity(options: RequestIdentityOptions): GatewayPlugin<RequestIdentityContext> {
  const { authenticator, rateLimiter } = options;
  const identities = new WeakMap<Request, GatewayIdentity>();
  const releases = new WeakMap<Request, () => void>();
  return {
    async onRequest({ request, endResponse, fetchAPI, serverContext }) {
      if (options.graphiql && isGraphiqlPage(request)) return;
      try {
        const address = (serverContext as { req?: IncomingMessage }).req?.socket?.remoteAddress;
        const identity = await authenticator.authenticate(Object.fromEntries(request.headers.entries()), { address });
        await chargeRequest(rateLimiter, identity.principal);
        if (options.inFlight) releases.set(request, options.inFlight.acquire(identity.principal.keyId ?? identity.principal.sandbox));
        identities.set(request, identity);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        endResponse(new fetchAPI.Response(refusalBody(error), { status: refusalStatus(error), headers: refusalHeaders(error) }));
      }
    },
    // Every request that was admitted ends with a response, whatever happened in between.
    onResponse({ request }) {
      releases.get(request)?.();
    },
    async onContextBuilding({ context, extendContext }) {
      if (context.identity) return;
      const identity =
        (context.request && identities.get(context.request)) ?? (await authenticator.authenticate(context.headers ?? {}));
      extendContext({ identity, forwardedHeaders: buildForwardedHeaders(identity) });
    },
    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      const forwarded = (executionRequest.context as Partial<RequestIdentityContext> | undefined)?.forwardedHeaders;
      if (!forwarded) return;
      const operationType =
        executionRequest.operationType ?? getOperationAST(executionRequest.document, executionRequest.operationName)?.operation;
      if (operationType === 'subscription') return;
      const existing = executionRequest.extensions?.['headers'] as Record<string, string> | undefined;
      setExecutionRequest({
        ...executionRequest,
        // The HTTP executor turns extensions.headers into request headers and keys its
        // in-flight de-duplication on them, so requests of two sandboxes never share a response.
        extensions: { ...executionRequest.extensions, headers: { ...existing, ...forwarded } },
      });
    },
  };
}

/** GraphiQL's page itself (a browser GET for HTML, with no operation) carries no key; its queries do. */
function isGraphiqlPage(request: Request): boolean {
  if (request.method !== 'GET' || !(request.headers.get('accept') ?? '').includes('text/html')) return false;
  return !new URL(request.url).searchParams.has('query');
}
