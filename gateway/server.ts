/**
 * The gateway's HTTP server: GraphQL over HTTP and graphql-ws on `/graphql`
 * (both executed by Hive Gateway's runtime) and `GET /healthz`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { WebSocketServer } from 'ws';
import { CloseCode } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { getGraphQLWSOptions, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { RequestLimits, SubgraphName, SubscriptionLimits } from '../lib/config.js';
import { DomainError, ErrorCode } from '../lib/errors.js';
import { discardRest, readGraphQLBody, valueListLengthError } from '../lib/limits/requestBody.js';
import { requestShapeError } from '../lib/subgraph/documentLimits.js';
import { closeReason } from '../lib/subgraph/websocket.js';
import type { Logger } from '../lib/logger.js';
import { countEdgeRefusal } from '../lib/metrics/gatewayMetrics.js';
import { METRICS_PATH } from '../lib/metrics/registry.js';
import { serveMetrics } from '../lib/metrics/metricsServer.js';
import { urlHost, type RunningService } from '../lib/service.js';
import type { RateLimiter } from '../lib/tenancy/rateLimiter.js';
import { ADMIN_PATH, type AdminEndpoint } from './admin/adminServer.js';
import { chargeRequest, refusalBody, refusalHeaders, refusalStatus, type Authenticator, type GatewayIdentity } from './authenticate.js';
import { checkSubgraphs } from './health.js';
import { createLivePage, LIVE_PATH } from './live/livePage.js';
import { SubscriptionGuard, type GuardedSocket } from './live/subscriptionGuard.js';
import { InFlightLimiter } from './limits/inFlightLimiter.js';
import { createRuntime, type CdpGatewayRuntime } from './runtime.js';
import type { RequestIdentityContext } from './plugins/useRequestIdentity.js';

export const GRAPHQL_PATH = '/graphql';
export const HEALTH_PATH = '/healthz';

export interface StartGatewayOptions {
  supergraphSdl: string;
  port: number;
  host: string;
  logger: Logger;
  /** Where /healthz checks each subgraph (the URLs the supergraph was composed with). */
  subgraphUrls: Readonly<Record<SubgraphName, string>> | Readonly<Record<string, string>>;
  /** Who a request is: API keys in production (authenticate.ts). */
  authenticator: Authenticator;
  rateLimiter?: RateLimiter;
  limits?: RequestLimits;
  introspection?: boolean;
  /** The admin API (sandboxes, keys, audit log), served at /admin/graphql. */
  admin?: AdminEndpoint;
  plugins?: GatewayPlugin[];
  deduplicateSubgraphRequests?: boolean;
  graphiql?: boolean;
  /** Caps, slow-consumer queue and key re-checks for websocket subscriptions; none means unbounded. */
  subscriptionLimits?: SubscriptionLimits;
  /** Serve the live-audience page at /live. @default true */
  livePage?: boolean;
}

export { LIVE_PATH };

export interface RunningGateway extends RunningService {
  /** `ws://` URL of the graphql-ws endpoint. */
  wsUrl: string;
}

export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const logger = options.logger.child({ component: 'gateway' });
  const limits = options.limits;
  const guard = options.subscriptionLimits
    ? new SubscriptionGuard({ limits: options.subscriptionLimits, authenticator: options.authenticator, logger, maxTokens: options.limits?.maxTokens })
    : undefined;
  const runtime = createRuntime({
    supergraphSdl: options.supergraphSdl,
    logger,
    authenticator: options.authenticator,
    rateLimiter: options.rateLimiter,
    inFlight: limits ? new InFlightLimiter(limits.maxInFlightPerKey) : undefined,
    limits,
    introspection: options.introspection,
    plugins: options.plugins,
    deduplicateSubgraphRequests: options.deduplicateSubgraphRequests,
    graphiql: options.graphiql,
    subscriptionQueue: guard && {
      maxQueuedPerSubscriber: guard.queueLimit,
      // A websocket operation's context holds its socket (see the graphql-ws options below).
      onOverflow: (context) => {
        const socket = (context as { socket?: GuardedSocket }).socket;
        if (socket) guard.closeSlowConsumer(socket);
      },
    },
  });

  try {
    // The runtime loads its schema lazily; a websocket that arrives first would fail.
    await runtime.getSchema();
  } catch (error) {
    await runtime.dispose();
    throw error;
  }

  const maxBodyBytes = limits?.maxBodyBytes;
  const livePage = options.livePage === false ? undefined : await createLivePage();
  const server = createServer((req, res) => {
    const path = pathOf(req);
    if (req.method === 'GET' && path === HEALTH_PATH) {
      void respondHealth(res, options.subgraphUrls, logger);
      return;
    }
    // Prometheus metrics of this process, unauthenticated like /healthz (labels carry no tenant data).
    if (req.method === 'GET' && path === METRICS_PATH) {
      void serveMetrics(res, logger);
      return;
    }
    if (livePage?.handle(req, res, path)) return;
    if (options.admin && path === ADMIN_PATH) {
      options.admin.handle(req, res).catch((error: unknown) => {
        logger.error({ err: error }, 'Admin API request failed');
        if (!res.headersSent) refuse(res, new DomainError(ErrorCode.Internal, 'Internal server error'), 500);
        else res.destroy();
      });
      return;
    }
    if (limits && req.method === 'POST') {
      admitBody(req, limits).then(
        () => runtime(req, res),
        (error: unknown) => {
          if (!(error instanceof DomainError)) {
            logger.debug({ err: error }, 'Request body could not be read');
            res.destroy();
            return;
          }
          countEdgeRefusal(error.code);
          // Refused before its end, the body may be cut off: the client must not reuse this connection.
          if (!req.complete) res.setHeader('connection', 'close');
          res.writeHead(refusalStatus(error), refusalHeaders(error));
          res.end(refusalBody(error));
          discardRest(req, limits.maxBodyBytes);
        },
      );
      return;
    }
    void runtime(req, res);
  });

  // Messages are bounded like request bodies (ws would accept 100 MiB).
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: maxBodyBytes });
  // ws re-emits the HTTP server's errors (EADDRINUSE...); listen() below reports those.
  wss.on('error', (error) => logger.debug({ err: error }, 'Websocket server error'));
  // One fetch-API request per connection, shared by its operations: it only carries the upgrade's headers.
  const upgradeRequests = new WeakMap<IncomingMessage, Request>();
  const wsOptions = getGraphQLWSOptions<RequestIdentityContext, Extra>(runtime, (ctx) => {
    let request = upgradeRequests.get(ctx.extra.request);
    if (!request) {
      request = upgradeRequest(runtime, ctx.extra.request);
      upgradeRequests.set(ctx.extra.request, request);
    }
    return { req: ctx.extra.request, socket: ctx.extra.socket, request };
  });
  // Each connection's identity, so every operation on it is charged to its key's rate.
  const identities = new WeakMap<object, GatewayIdentity>();
  const wsServer = useServer(
    {
      ...wsOptions,
      // Refused connections close with graphql-ws's 4403 Forbidden before any subscription starts.
      onConnect: async (ctx) => {
        try {
          const headers = { ...ctx.extra.request.headers, ...ctx.connectionParams };
          const identity = await options.authenticator.authenticate(headers, { address: ctx.extra.request.socket.remoteAddress });
          await chargeRequest(options.rateLimiter, identity.principal);
          // Over its key's connection cap the socket is closed with our code first (4403 otherwise).
          if (guard && !guard.admitConnection(ctx.extra.socket, identity, headers)) return false;
          identities.set(ctx.extra.socket, identity);
          return true;
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          logger.debug({ code: error.code }, 'Websocket connection refused');
          // graphql-ws would close with 4403 "Forbidden" alone; closing first tells the client why, as the subgraphs do.
          const code = error.code === ErrorCode.Unauthenticated ? CloseCode.Unauthorized : CloseCode.Forbidden;
          ctx.extra.socket.close(code, closeReason(error.code, error.message));
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const identity = identities.get(ctx.extra.socket);
        try {
          if (identity) await chargeRequest(options.rateLimiter, identity.principal);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          return [new GraphQLError(error.message, { extensions: { code: error.code, details: error.details } })];
        }
        const tooLong = limits ? valueListLengthError(payload.variables, limits.maxListLength) : undefined;
        if (tooLong) return [new GraphQLError(tooLong.message, { extensions: { code: tooLong.code, details: tooLong.details } })];
        const refused = guard?.admitSubscription(ctx.extra.socket, id, payload);
        if (refused) return refused;
        return wsOptions.onSubscribe?.(ctx, id, payload);
      },
      onComplete: (ctx, id) => guard?.release(ctx.extra.socket, id),
      onClose: (ctx) => guard?.disconnect(ctx.extra.socket),
    },
    wss,
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await runtime.dispose();
    throw error;
  });

  const { port } = server.address() as AddressInfo;
  const origin = `http://${urlHost(options.host)}:${port}`;
  logger.info({ url: `${origin}${GRAPHQL_PATH}` }, 'Gateway listening');

  let stopped: Promise<void> | undefined;
  return {
    name: 'gateway',
    url: `${origin}${GRAPHQL_PATH}`,
    wsUrl: `ws://${urlHost(options.host)}:${port}${GRAPHQL_PATH}`,
    port,
    stop() {
      stopped ??= (async () => {
        // Clients first (graphql-ws closes them with 1001 Going Away), then the runtime,
        // which closes its subgraph sockets; it does not stop on its own.
        guard?.stop();
        await wsServer.dispose();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await runtime.dispose();
        await options.admin?.stop();
        logger.info('Gateway stopped');
      })();
      return stopped;
    },
  };
}

async function respondHealth(
  res: ServerResponse,
  subgraphUrls: Readonly<Record<string, string>>,
  logger: Logger,
): Promise<void> {
  const report = await checkSubgraphs(subgraphUrls);
  if (report.status !== 'ok') logger.warn({ failed: report.failed }, 'Health check: subgraphs unavailable');
  res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(report));
}

/**
 * A POST body is read, bounded (declared length or chunked alike), scanned for
 * over-long lists and parsed here, before authentication, the runtime's own
 * parsing, validation or variable coercion. The runtime then takes the parsed
 * body as it is (whatwg-node uses a request's `body` when one is attached).
 */
async function admitBody(req: IncomingMessage, limits: RequestLimits): Promise<void> {
  const { raw, parsed } = await readGraphQLBody(req, limits);
  const params = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as { query?: unknown; variables?: unknown }) : undefined;
  const shapeError = typeof params?.query === 'string' ? requestShapeError({ query: params.query, variables: params.variables }) : undefined;
  if (shapeError) {
    throw new DomainError(shapeError.extensions.code === ErrorCode.BadUserInput ? ErrorCode.BadUserInput : ErrorCode.LimitExceeded, shapeError.message);
  }
  // An empty object would make whatwg-node read the (already consumed) stream again: pass the bytes instead.
  const usable = parsed !== null && typeof parsed === 'object' && Object.keys(parsed).length > 0;
  (req as IncomingMessage & { body?: unknown }).body = usable ? parsed : raw;
}

function refuse(res: ServerResponse, error: DomainError, status = refusalStatus(error)): void {
  res.writeHead(status, { ...refusalHeaders(error), connection: 'close' });
  res.end(refusalBody(error));
}

/** A fetch-API Request for a websocket's upgrade request, as the runtime's context expects. */
function upgradeRequest(runtime: CdpGatewayRuntime, req: IncomingMessage): Request {
  const headers = new runtime.fetchAPI.Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  return new runtime.fetchAPI.Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? GRAPHQL_PATH}`, { headers });
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}


