/**
 * graphql-ws on the subgraph's HTTP server and GraphQL path, for subscriptions
 * (and any other operation a websocket client sends). The context is built from
 * the connection params exactly as HTTP builds it from headers.
 */
import type { Server } from 'node:http';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from '../logger.js';
import { headersFromConnection, type RequestHeaders } from './requestHeaders.js';
import { contextError, formatWebSocketError, withCode } from './transportErrors.js';

export interface WebSocketHandle {
  close(): Promise<void>;
}

export function attachWebSocketServer<TContext>(options: {
  server: Server;
  path: string;
  schema: GraphQLSchema;
  buildContext: (headers: RequestHeaders) => Promise<TContext>;
  logger: Logger;
}): WebSocketHandle {
  const { schema, logger } = options;
  const wss = new WebSocketServer({ server: options.server, path: options.path });
  const onInternal = (error: unknown) => logger.error({ err: error }, 'Internal error in a websocket operation');

  const disposable = useServer(
    {
      schema,
      onSubscribe: async (ctx, _id, payload) => {
        let contextValue: TContext;
        try {
          contextValue = await options.buildContext(
            headersFromConnection(ctx.connectionParams, ctx.extra.request.headers),
          );
        } catch (error) {
          return [contextError(error)];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)), 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
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
