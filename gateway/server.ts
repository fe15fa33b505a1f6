/**
 * The gateway's HTTP server: GraphQL over HTTP and graphql-ws on `/graphql`
 * (both executed by Hive Gateway's runtime) and `GET /healthz`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { getGraphQLWSOptions, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { SubgraphName } from '../lib/config.js';
import { DomainError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { RunningService } from '../lib/service.js';
import { authenticate } from './authenticate.js';
import { checkSubgraphs } from './health.js';
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
  plugins?: GatewayPlugin[];
  deduplicateSubgraphRequests?: boolean;
  graphiql?: boolean;
}

export interface RunningGateway extends RunningService {
  /** `ws://` URL of the graphql-ws endpoint. */
  wsUrl: string;
}

export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const logger = options.logger.child({ component: 'gateway' });
  const runtime = createRuntime({
    supergraphSdl: options.supergraphSdl,
    logger,
    plugins: options.plugins,
    deduplicateSubgraphRequests: options.deduplicateSubgraphRequests,
    graphiql: options.graphiql,
  });

  try {
    // The runtime loads its schema lazily; a websocket that arrives first would fail.
    await runtime.getSchema();
  } catch (error) {
    await runtime.dispose();
    throw error;
  }

  const server = createServer((req, res) => {
    if (req.method === 'GET' && pathOf(req) === HEALTH_PATH) {
      void respondHealth(res, options.subgraphUrls, logger);
      return;
    }
    void runtime(req, res);
  });

  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
  // ws re-emits the HTTP server's errors (EADDRINUSE...); listen() below reports those.
  wss.on('error', (error) => logger.debug({ err: error }, 'Websocket server error'));
  const wsServer = useServer(
    {
      ...getGraphQLWSOptions<RequestIdentityContext, Extra>(runtime, (ctx) => ({
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        request: upgradeRequest(runtime, ctx.extra.request),
      })),
      // Refused connections close with graphql-ws's 4403 Forbidden before any subscription starts.
      onConnect: (ctx) => {
        try {
          authenticate({ ...ctx.extra.request.headers, ...ctx.connectionParams });
          return true;
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          logger.debug({ code: error.code }, 'Websocket connection refused');
          return false;
        }
      },
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
  const origin = `http://${displayHost(options.host)}:${port}`;
  logger.info({ url: `${origin}${GRAPHQL_PATH}` }, 'Gateway listening');

  let stopped: Promise<void> | undefined;
  return {
    name: 'gateway',
    url: `${origin}${GRAPHQL_PATH}`,
    wsUrl: `ws://${displayHost(options.host)}:${port}${GRAPHQL_PATH}`,
    port,
    stop() {
      stopped ??= (async () => {
        // Clients first (graphql-ws closes them with 1001 Going Away), then the runtime,
        // which closes its subgraph sockets; it does not stop on its own.
        await wsServer.dispose();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await runtime.dispose();
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

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
