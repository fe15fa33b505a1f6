/**
 * The one server every subgraph runs on: a Node `http` server with
 *   POST/GET /graphql  Apollo Server (federation subgraph schema)
 *   WS /graphql        graphql-ws, same schema and context
 *   GET /health        200 {status:"ok"} when MongoDB answers a ping, else 503
 * Every GraphQL request, on either transport, needs a valid gateway token
 * (lib/subgraph/auth.ts); `/health` reveals nothing and needs none.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { DocumentNode } from 'graphql';
import type { Databases } from '../mongo/databases.js';
import { silentLogger, type Logger } from '../logger.js';
import { urlHost, type RunningService } from '../service.js';
import { createGatewayAuthenticator, type SubgraphSecurity } from './auth.js';
import { mongoPingCheck, type HealthCheck } from './health.js';
import { DEFAULT_BODY_LIMIT_BYTES, handleGraphQLRequest, sendJson } from './http.js';
import type { RequestHeaders } from './requestHeaders.js';
import { headersFromHttp } from './requestHeaders.js';
import { buildRequestScope, type RequestScope } from './requestScope.js';
import { contextErrorResponse, formatHttpError } from './transportErrors.js';
import { requestShapeError } from './documentLimits.js';
import { guardEntityRepresentations } from './entities.js';
import { attachWebSocketServer } from './websocket.js';

export type { GraphQLResolverMap, SubgraphSecurity };

/** Largest GraphQL document a subgraph parses, in tokens; the gateway's own limit for clients is far lower. */
export const MAX_DOCUMENT_TOKENS = 20_000;

export const GRAPHQL_PATH = '/graphql';
export const HEALTH_PATH = '/health';

/** What every subgraph's `start<Name>Subgraph` accepts. */
export interface SubgraphStartOptions {
  /** The caller owns the client (and closes it); tests pass one that counts commands. */
  databases: Databases;
  /**
   * From `config.security`: the gateway token secret, the encryption key for secrets
   * at rest, and the request limits whose body and list bounds every part shares.
   */
  security: SubgraphSecurity & { readonly limits?: { readonly maxBodyBytes: number } };
  /** 0 picks a free port; the returned `url` and `port` report the real one. */
  port?: number;
  host?: string;
  logger?: Logger;
  now?: () => Date;
}

export interface SubgraphServerOptions<TContext extends object> extends SubgraphStartOptions {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<TContext>;
  /** Binds services and loaders to one request's sandbox. */
  createContext: (scope: RequestScope) => TContext;
  healthCheck?: HealthCheck;
  /** Overrides `security.limits.maxBodyBytes`. */
  bodyLimitBytes?: number;
  /** How long `stop()` lets in-flight HTTP requests finish. */
  stopGraceMs?: number;
}

export async function startSubgraphServer<TContext extends object>(
  options: SubgraphServerOptions<TContext>,
): Promise<RunningService> {
  const logger = (options.logger ?? silentLogger).child({ subgraph: options.name });
  const now = options.now ?? (() => new Date());
  const host = options.host ?? '127.0.0.1';
  // One body limit for the gateway and every subgraph: what the gateway admits, a subgraph reads.
  const bodyLimitBytes = options.bodyLimitBytes ?? options.security.limits?.maxBodyBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  // Lists are bounded where clients send them, at the gateway; a query plan's own
  // `_entities` representations may rightly be longer than any client list.
  const maxListLength = Number.POSITIVE_INFINITY;
  const healthCheck = options.healthCheck ?? mongoPingCheck(options.databases.client);
  const authenticate = createGatewayAuthenticator(options.security.gatewaySecret, options.security.tokenClock);
  const onInternal = (error: unknown) => logger.error({ err: error }, 'Internal error in a GraphQL request');

  const schema = guardEntityRepresentations(
    buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<unknown> }),
  );

  // One context builder for both transports; it authenticates the request first.
  const buildContext = async (headers: RequestHeaders): Promise<TContext> =>
    options.createContext(await buildRequestScope(headers, { databases: options.databases, authenticate, now, logger }));

  const apollo = new ApolloServer<TContext>({
    schema,
    logger,
    includeStacktraceInErrorResponses: false,
    // Bounds parsing work (and the parser's recursion) for any document that reaches us.
    parseOptions: { maxTokens: MAX_DOCUMENT_TOKENS },
    stopOnTerminationSignals: false,
    // Subgraphs are reached through the gateway: no landing page, and no Apollo Studio traces.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
    formatError: (formatted, error) => formatHttpError(formatted, error, onInternal),
  });
  await apollo.start();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      const healthy = await healthCheck();
      sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unavailable', service: options.name });
      return;
    }
    if (path === GRAPHQL_PATH) {
      // Authenticated before the body is read, so a caller without a token costs almost nothing.
      let context: TContext;
      try {
        context = await buildContext(headersFromHttp(req.headers));
      } catch (error) {
        const refused = contextErrorResponse(error, onInternal);
        sendJson(res, refused.status, refused.body);
        return;
      }
      await handleGraphQLRequest(apollo, req, res, { bodyLimitBytes, maxListLength, context: async () => context, checkRequest: requestShapeError });
      return;
    }
    sendJson(res, 404, { errors: [{ message: `Not found: ${path}`, extensions: { code: 'NOT_FOUND' } }] });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'Unhandled error in the HTTP handler');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });
  const ws = attachWebSocketServer({
    server,
    path: GRAPHQL_PATH,
    schema,
    authenticate,
    buildContext,
    logger,
    maxPayloadBytes: bodyLimitBytes,
    maxTokens: MAX_DOCUMENT_TOKENS,
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await ws.close().catch(() => {});
    await apollo.stop();
    throw error;
  }

  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}${GRAPHQL_PATH}`;
  logger.info({ url }, `${options.name} subgraph listening`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await ws.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), options.stopGraceMs ?? 5_000);
      await closed;
      clearTimeout(grace);
      await apollo.stop();
      logger.info(`${options.name} subgraph stopped`);
    })();
    return stopping;
  };

  return { name: options.name, url, port, stop };
}
