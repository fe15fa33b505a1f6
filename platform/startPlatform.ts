/**
 * The whole platform in one process, for `npm start` and for end-to-end tests:
 * MongoDB connection, the four subgraphs, the gateway composed with their real
 * URLs, and a jobs worker. `stop()` stops them in reverse order. In production
 * each part can equally run as its own process (the `start:*` entries beside
 * this file). This folder is the composition root: the only code that wires
 * the parts together, so no part needs to import another to be started.
 */
import type { MongoClient } from 'mongodb';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { SUBGRAPH_NAMES, type Config, type SubgraphName } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import { DEFAULT_SANDBOX } from '../lib/sandbox.js';
import { connectMongo, createDatabases, type Databases } from '../lib/mongo/databases.js';
import { letGoOfEventLogs } from '../subgraphs/segment/memberships/eventLogAppends.js';
import { findMongo, type FoundMongo } from '../lib/mongo/findMongo.js';
import type { RunningService } from '../lib/service.js';
import type { SubgraphStartOptions } from '../lib/subgraph/server.js';
import { composeSupergraph } from '../gateway/compose.js';
import type { RunningGateway } from '../gateway/server.js';
import { startPlatformGateway } from '../gateway/startPlatformGateway.js';
import type { WorkerService } from '../lib/jobs.js';
import type { TenancyService } from '../lib/tenancy/tenancy.service.js';
import { startWorker, type RunningWorker } from '../jobs/worker.js';
import { startProfileSubgraph } from '../subgraphs/profile/server.js';
import { startAccountSubgraph } from '../subgraphs/account/server.js';
import { startSegmentSubgraph } from '../subgraphs/segment/server.js';
import { startDestinationSubgraph } from '../subgraphs/destination/server.js';

export type PlatformPorts = Record<'gateway' | SubgraphName, number>;

const SUBGRAPH_STARTERS: Record<SubgraphName, (options: SubgraphStartOptions) => Promise<RunningService>> = {
  profile: startProfileSubgraph,
  account: startAccountSubgraph,
  segment: startSegmentSubgraph,
  destination: startDestinationSubgraph,
};

export interface StartPlatformOptions {
  config: Config;
  logger: Logger;
  /** MongoDB to use; when absent it is found as DESIGN.md section 6 says (and stopped with the platform). */
  mongoUri?: string;
  /** Ports to listen on (0 picks a free one); `config.ports` by default. */
  ports?: Partial<PlatformPorts>;
  /** Interface to bind; `config.host` by default. */
  host?: string;
  now?: () => Date;
  /**
   * A MongoClient for one subgraph instead of the shared one (e.g. a client with
   * `monitorCommands: true` to count a subgraph's queries). The caller owns and closes it.
   */
  clientFor?: (subgraph: SubgraphName) => MongoClient | undefined;
  /** Run a jobs worker in this process. @default true */
  worker?: boolean;
  /** The worker's long-running services (e.g. the streaming evaluator); every registered one by default. */
  workerServices?: readonly WorkerService[];
  /** Extra gateway plugins (e.g. to observe subgraph fetches in tests). */
  gatewayPlugins?: GatewayPlugin[];
  /** Serve GraphiQL on the gateway. @default true outside production */
  graphiql?: boolean;
}

export interface RunningPlatform {
  gateway: RunningGateway;
  subgraphs: Record<SubgraphName, RunningService>;
  worker: RunningWorker | undefined;
  mongoUri: string;
  /** The shared client's databases (platform data and sandboxes). */
  databases: Databases;
  /** Sandboxes, API keys and the audit log. */
  tenancy: TenancyService;
  /** The admin key of sandbox `default` when this start generated it (shown once). */
  generatedAdminKey: string | undefined;
  /** Stops the worker, the gateway, the subgraphs, then closes MongoDB; safe to call twice. */
  stop(): Promise<void>;
}

export async function startPlatform(options: StartPlatformOptions): Promise<RunningPlatform> {
  const { config, logger } = options;
  const ports: PlatformPorts = { ...config.ports, ...options.ports };
  const host = options.host ?? config.host;
  // Everything started so far, stopped in reverse if a later step fails or at stop().
  const stack: Array<{ name: string; stop: () => Promise<void> }> = [];

  const stopAll = async () => {
    for (const entry of stack.splice(0).reverse()) {
      try {
        await entry.stop();
      } catch (error) {
        logger.error({ err: error, part: entry.name }, 'Error while stopping the platform');
      }
    }
  };

  try {
    let mongoUri = options.mongoUri;
    if (!mongoUri) {
      const found: FoundMongo = await findMongo({ mongodbUri: config.mongodbUri, logger });
      stack.push({ name: 'mongodb', stop: () => found.stop() });
      mongoUri = found.uri;
    }

    const client = await connectMongo(mongoUri);
    // Membership event logs this process still holds are let go first, or other processes wait for their locks to run out.
    stack.push({ name: 'mongo client', stop: () => letGoOfEventLogs(client).then(() => client.close()) });
    const databases = createDatabases(client, config.databasePrefix);

    const subgraphs = {} as Record<SubgraphName, RunningService>;
    await Promise.all(
      SUBGRAPH_NAMES.map(async (name) => {
        const ownClient = options.clientFor?.(name);
        const service = await SUBGRAPH_STARTERS[name]({
          databases: ownClient ? createDatabases(ownClient, config.databasePrefix) : databases,
          port: ports[name],
          host,
          logger,
          security: config.security,
          now: options.now,
        });
        stack.push({ name, stop: () => service.stop() });
        subgraphs[name] = service;
      }),
    );

    const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, subgraphs[name].url])) as Record<
      SubgraphName,
      string
    >;
    const { gateway, tenancy } = await startPlatformGateway({
      config,
      databases,
      supergraphSdl: await composeSupergraph({ routingUrls: subgraphUrls }),
      subgraphUrls,
      port: ports.gateway,
      host,
      logger,
      plugins: options.gatewayPlugins,
      graphiql: options.graphiql ?? config.mode !== 'production',
      now: options.now,
    });
    stack.push({ name: 'gateway', stop: () => gateway.stop() });
    // The embedded default: sandbox `default` with an admin key (CDP_BOOTSTRAP_KEY, or generated once).
    const { generatedKey } = await tenancy.bootstrap(DEFAULT_SANDBOX, config.security.bootstrapKey);

    let worker: RunningWorker | undefined;
    if (options.worker ?? true) {
      worker = await startWorker({
        databases,
        logger,
        now: options.now,
        subgraphUrls,
        security: config.security,
        audiences: config.audiences,
        services: options.workerServices,
      });
      const started = worker;
      stack.push({ name: 'worker', stop: () => started.stop() });
    }

    let stopping: Promise<void> | undefined;
    return {
      gateway,
      subgraphs,
      worker,
      mongoUri,
      databases,
      tenancy,
      generatedAdminKey: generatedKey,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
