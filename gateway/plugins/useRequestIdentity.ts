/**
 * Authenticates each HTTP request at the edge (a refused request never reaches
 * GraphQL execution), applies the per-key rate limit, and attaches the identity
 * and the headers to forward to its context; websocket operations get theirs
 * from the connection's headers and connectionParams, already checked when the
 * socket connected (server.ts).
 *
 * Every HTTP fetch to a subgraph then carries the forwarded headers and the
 * request's id (`x-request-id`: the client's, else a new one; also answered
 * to the client; see requestIdHeaders), so subgraph logs of one request share it. Subscriptions
 * carry the forwarded headers as the subgraph websocket's connectionParams
 * instead (runtime.ts), so they are not also copied into the subscribe message.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { getOperationAST } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { DomainError } from '../../lib/errors.js';
import type { RateLimiter } from '../../lib/tenancy/rateLimiter.js';
import {
  AUTHORIZATION_HEADER,
  SANDBOX_HEADER,
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
  /** The HTTP request's id, sent to subgraphs as `x-request-id`; none over websockets. */
  requestId?: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';
/** A client's request id is kept only when it is this short (it lands in every subgraph log line). */
const MAX_REQUEST_ID_LENGTH = 100;

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
  const admitted = new WeakMap<Request, { identity: GatewayIdentity; requestId: string }>();
  const releases = new WeakMap<Request, () => void>();
  return {
    async onRequest({ request, endResponse, fetchAPI, serverContext }) {
      if (options.graphiql && isGraphiqlPage(request)) return;
      try {
        const address = (serverContext as { req?: IncomingMessage }).req?.socket?.remoteAddress;
        // Only the two headers authentication reads, not a copy of every header.
        const headers = { [AUTHORIZATION_HEADER]: request.headers.get(AUTHORIZATION_HEADER), [SANDBOX_HEADER]: request.headers.get(SANDBOX_HEADER) };
        const identity = await authenticator.authenticate(headers, { address });
        await chargeRequest(rateLimiter, identity.principal);
        if (options.inFlight) releases.set(request, options.inFlight.acquire(identity.principal.keyId ?? identity.principal.sandbox));
        admitted.set(request, { identity, requestId: requestIdOf(request) });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        endResponse(new fetchAPI.Response(refusalBody(error), { status: refusalStatus(error), headers: refusalHeaders(error) }));
      }
    },
    // Every request that was admitted ends with a response, whatever happened in between.
    onResponse({ request, response }) {
      releases.get(request)?.();
      const requestId = admitted.get(request)?.requestId;
      if (requestId) response.headers.set(REQUEST_ID_HEADER, requestId);
    },
    async onContextBuilding({ context, extendContext }) {
      if (context.identity) return;
      const known = context.request && admitted.get(context.request);
      const identity = known?.identity ?? (await authenticator.authenticate(context.headers ?? {}));
      extendContext({ identity, forwardedHeaders: buildForwardedHeaders(identity), ...(known ? { requestId: known.requestId } : {}) });
    },
    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      const context = executionRequest.context as Partial<RequestIdentityContext> | undefined;
      const forwarded = context?.forwardedHeaders;
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

/**
 * The request id header for a subgraph fetch made for `context` (runtime.ts gives it to the
 * subgraph fetch): added as the request goes out, after in-flight de-duplication has keyed it,
 * so identical queries still share one subgraph call (which carries the first one's id).
 */
export function requestIdHeaders(context: unknown): Record<string, string> | undefined {
  const requestId = (context as Partial<RequestIdentityContext> | undefined)?.requestId;
  return requestId ? { [REQUEST_ID_HEADER]: requestId } : undefined;
}

/** The client's request id when it sent a usable one, else a new one. */
function requestIdOf(request: Request): string {
  const sent = request.headers.get(REQUEST_ID_HEADER);
  return sent && sent.length <= MAX_REQUEST_ID_LENGTH ? sent : randomUUID();
}
