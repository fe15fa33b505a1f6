/**
 * Authenticates each HTTP request at the edge (a refused request never reaches
 * GraphQL execution) and attaches the identity and the headers to forward to
 * its context; websocket operations get theirs from the connection's headers
 * and connectionParams, already checked when the socket connected (server.ts).
 *
 * Every HTTP fetch to a subgraph then carries the forwarded headers.
 * Subscriptions carry them as the subgraph websocket's connectionParams
 * instead (runtime.ts), so they are not also copied into the subscribe message.
 */
import { getOperationAST } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { DomainError } from '../../lib/errors.js';
import { authenticate, refusalBody, refusalStatus, type GatewayIdentity } from '../authenticate.js';
import { buildForwardedHeaders, type ForwardedHeaders } from '../forwardedHeaders.js';

export interface RequestIdentityContext {
  identity: GatewayIdentity;
  forwardedHeaders: ForwardedHeaders;
}

export function useRequestIdentity(): GatewayPlugin<RequestIdentityContext> {
  const identities = new WeakMap<Request, GatewayIdentity>();
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      try {
        identities.set(request, authenticate(Object.fromEntries(request.headers.entries())));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        endResponse(
          new fetchAPI.Response(refusalBody(error), {
            status: refusalStatus(error),
            headers: { 'content-type': 'application/graphql-response+json; charset=utf-8' },
          }),
        );
      }
    },
    onContextBuilding({ context, extendContext }) {
      if (context.identity) return;
      const identity = (context.request && identities.get(context.request)) ?? authenticate(context.headers ?? {});
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
