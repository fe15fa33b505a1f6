/**
 * graphql-ws on the subgraph's HTTP server and GraphQL path, for subscriptions
 * (and any other operation a websocket client sends). The context is built from
 * the connection params exactly as HTTP builds it from headers.
 *
 * The gateway token is checked twice: when the connection opens (a socket
 * without a valid token is closed with 4401 and reason `UNAUTHENTICATED: ...`)
 * and again for every operation, by the context builder (an `error` message
 * with `extensions.code` UNAUTHENTICATED), so a token that expired while the
 * socket stayed open cannot start new operations. A subscription already
 * running is not cut off when its token expires.
 */
import type { Server } from 'node:http';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { WebSocketServer } from 'ws';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { findDomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Authenticate } from './auth.js';
import { requestShapeError } from './documentLimits.js';
import { headersFromConnection, type RequestHeaders } from './requestHeaders.js';
import { contextError, formatWebSocketError, withCode } from './transportErrors.js';

export interface WebSocketHandle {
  close(): Promise<void>;
}

/**
 * Close codes of our own, beside graphql-ws's `CloseCode` (4400-4504, none reused).
 * Each is sent with a reason `<CODE>: <message>`; README.md lists them for clients.
 */
export const LiveCloseCode = {
  /**
   * The client read its subscriptions' events too slowly and fell more than the queue
   * limit behind (reason `SLOW_CONSUMER: ...`). Reconnect and resume with the last
   * `cursor` received: nothing is lost.
   */
  SlowConsumer: 4413,
  /** The key has as many websocket connections as it may hold (reason `LIMIT_EXCEEDED: ...`). */
  ConnectionLimitExceeded: 4420,
} as const;
export type LiveCloseCode = (typeof LiveCloseCode)[keyof typeof LiveCloseCode];

/** A websocket close reason is at most 123 bytes: `<code>: <message>`, or the code alone when longer. */
export function closeReason(code: string, message: string): string {
  const reason = `${code}: ${message}`;
  return Buffer.byteLength(reason) <= 123 ? reason : code;
}

/**
 * Valid documents kept by query text, the least recently used dropped first. A running
 * subscription holds its document: the gateway sends the same text for every client of a
 * dashboard, so they share one parsed document instead of each holding its own, and skip
 * parsing and validating it again. Validation depends only on the document and the schema.
 */
const VALID_DOCUMENTS_KEPT = 1_000;

export function attachWebSocketServer<TContext>(options: {
  server: Server;
  path: string;
  schema: GraphQLSchema;
  authenticate: Authenticate;
  buildContext: (headers: RequestHeaders) => Promise<TContext>;
  logger: Logger;
  /** Largest websocket message accepted (the HTTP body limit); larger ones close the socket. */
  maxPayloadBytes: number;
  maxTokens: number;
}): WebSocketHandle {
  const { schema, logger } = options;
  const wss = new WebSocketServer({ server: options.server, path: options.path, maxPayload: options.maxPayloadBytes });
  const onInternal = (error: unknown) => logger.error({ err: error }, 'Internal error in a websocket operation');
  const validDocuments = new LRUCache<string, DocumentNode>({ max: VALID_DOCUMENTS_KEPT });

  const disposable = useServer(
    {
      schema,
      onConnect: async (ctx) => {
        try {
          await options.authenticate(headersFromConnection(ctx.connectionParams, ctx.extra.request.headers));
          return true;
        } catch (error) {
          const domain = findDomainError(error);
          if (!domain) throw error;
          // graphql-ws would close with 4403 "Forbidden"; closing first keeps the code and reason ours.
          ctx.extra.socket.close(CloseCode.Unauthorized, closeReason(domain.code, domain.message));
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        let contextValue: TContext;
        try {
          contextValue = await options.buildContext(
            headersFromConnection(ctx.connectionParams, ctx.extra.request.headers),
          );
        } catch (error) {
          return [contextError(error)];
        }
        const shape = requestShapeError(payload);
        if (shape) return [shape];
        let document = validDocuments.get(payload.query);
        if (!document) {
          try {
            document = parse(payload.query, { maxTokens: options.maxTokens });
          } catch (error) {
            const message = error instanceof GraphQLError ? error.message : 'The document could not be parsed';
            return [withCode(new GraphQLError(message), 'GRAPHQL_PARSE_FAILED')];
          }
          const errors = validate(schema, document);
          if (errors.length > 0) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
          validDocuments.set(payload.query, document);
        }
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatWebSocketError(error, onInternal)),
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        return {
          data: result.data,
          errors: result.errors.map((error) => formatWebSocketError(error, onInternal)),
          ...(result.extensions ? { extensions: result.extensions } : {}),
        };
      },
    },
    wss,
  );

  return {
    // Closes every client (1001 Going away) and the websocket server.
    close: async () => {
      await disposable.dispose();
    },
  };
}
