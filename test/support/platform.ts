/**
 * A whole platform for one end-to-end suite: the four subgraphs and the gateway
 * on free ports, on the run's MongoDB, in databases under a prefix no other
 * suite uses, dropped on stop.
 */
import type { MongoClient } from 'mongodb';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { loadConfig, type SubgraphName } from '../../lib/config.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type { RunningService } from '../../lib/service.js';
import { startPlatform } from '../../lib/platform/startPlatform.js';
import { connectTestClient, dropDatabasesWithPrefix, mongoUri, uniqueName } from './mongo.js';

export interface GraphQLResponse<TData> {
  data?: TData | null;
  errors?: Array<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }>;
}

export interface QueryOptions {
  /** Sent as `x-sandbox`; the gateway's default sandbox when absent. */
  sandbox?: string;
  headers?: Record<string, string>;
}

export interface TestPlatform {
  gatewayUrl: string;
  wsUrl: string;
  subgraphs: Record<SubgraphName, RunningService>;
  /** This platform's database prefix. */
  databasePrefix: string;
  query<TData = any>(query: string, variables?: Record<string, unknown>, options?: QueryOptions): Promise<GraphQLResponse<TData>>;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  /** A MongoClient for one subgraph (e.g. with `monitorCommands: true`); the test owns and closes it. */
  clientFor?: (subgraph: SubgraphName) => MongoClient | undefined;
  /** Run the jobs worker too. @default false */
  worker?: boolean;
  gatewayPlugins?: GatewayPlugin[];
  now?: () => Date;
  logger?: Logger;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const databasePrefix = `${uniqueName('e2e')}_`;
  const config = loadConfig({ CDP_MODE: 'test', CDP_DB_PREFIX: databasePrefix, CDP_LOG_LEVEL: 'silent' });
  const platform = await startPlatform({
    config,
    logger: options.logger ?? silentLogger,
    mongoUri: mongoUri(),
    host: '127.0.0.1',
    ports: { gateway: 0, profile: 0, account: 0, segment: 0, destination: 0 },
    now: options.now,
    clientFor: options.clientFor,
    worker: options.worker ?? false,
    gatewayPlugins: options.gatewayPlugins,
    graphiql: false,
  });

  const gatewayUrl = platform.gateway.url;
  let stopping: Promise<void> | undefined;
  return {
    gatewayUrl,
    wsUrl: platform.gateway.wsUrl,
    subgraphs: platform.subgraphs,
    databasePrefix,
    async query(query, variables = {}, { sandbox, headers } = {}) {
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(sandbox ? { 'x-sandbox': sandbox } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse<any>;
    },
    stop() {
      stopping ??= (async () => {
        await platform.stop();
        const client = await connectTestClient();
        try {
          await dropDatabasesWithPrefix(client, databasePrefix);
        } finally {
          await client.close();
        }
      })();
      return stopping;
    },
  };
}
