/**
 * A whole platform for one end-to-end suite: the four subgraphs and the gateway
 * on free ports, on the run's MongoDB, in databases under a prefix no other
 * suite uses, dropped on stop.
 */
import type { WorkerService } from '../../lib/jobs.js';
import type { MongoClient } from 'mongodb';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { loadConfig, type SubgraphName } from '../../lib/config.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type { RunningService } from '../../lib/service.js';
import { startPlatform } from '../../platform/startPlatform.js';
import type { Role } from '../../lib/auth/roles.js';
import { SANDBOX_NAME_PATTERN } from '../../lib/sandbox.js';
import type { TenancyService } from '../../lib/tenancy/tenancy.service.js';
import { connectTestClient, dropDatabasesWithPrefix, mongoUri, uniqueName } from './mongo.js';

export interface GraphQLResponse<TData> {
  data?: TData | null;
  errors?: Array<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }>;
}

export interface QueryOptions {
  /** Whose API key to send, and sent as `x-sandbox` too; the sandbox `default` when absent. */
  sandbox?: string;
  /** The role of the key used. @default 'admin' */
  role?: Role;
  /** Send this key instead (or none, with `null`). */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface TestPlatform {
  gatewayUrl: string;
  wsUrl: string;
  subgraphs: Record<SubgraphName, RunningService>;
  /** This platform's database prefix. */
  databasePrefix: string;
  query<TData = any>(query: string, variables?: Record<string, unknown>, options?: QueryOptions): Promise<GraphQLResponse<TData>>;
  /** An API key of `sandbox` with `role`, creating the sandbox and key on first use. */
  keyFor(sandbox: string, role?: Role): Promise<string>;
  /** graphql-ws connectionParams that authenticate as `role` in `sandbox`. */
  connectionParams(sandbox: string, role?: Role): Promise<Record<string, string>>;
  tenancy: TenancyService;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  /** A MongoClient for one subgraph (e.g. with `monitorCommands: true`); the test owns and closes it. */
  clientFor?: (subgraph: SubgraphName) => MongoClient | undefined;
  /** Run the jobs worker too. @default false */
  worker?: boolean;
  /** The worker's long-running services; every registered one (the streaming evaluator) by default. */
  workerServices?: readonly WorkerService[];
  gatewayPlugins?: GatewayPlugin[];
  now?: () => Date;
  logger?: Logger;
  /** Settings as environment variables (e.g. CDP_RATE_LIMIT_PER_MINUTE), over the test defaults. */
  env?: Record<string, string>;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const databasePrefix = `${uniqueName('e2e')}_`;
  const config = loadConfig({ CDP_MODE: 'test', CDP_DB_PREFIX: databasePrefix, CDP_LOG_LEVEL: 'silent', ...options.env });
  const platform = await startPlatform({
    config,
    logger: options.logger ?? silentLogger,
    mongoUri: mongoUri(),
    host: '127.0.0.1',
    ports: { gateway: 0, profile: 0, account: 0, segment: 0, destination: 0 },
    now: options.now,
    clientFor: options.clientFor,
    worker: options.worker ?? false,
    workerServices: options.workerServices,
    gatewayPlugins: options.gatewayPlugins,
    graphiql: false,
  });

  const gatewayUrl = platform.gateway.url;
  const { tenancy } = platform;
  const keys = new Map<string, Promise<string>>();
  // The platform bootstrapped `default` at start; its key was shown once, to us.
  if (platform.generatedAdminKey) keys.set('default/admin', Promise.resolve(platform.generatedAdminKey));
  const keyFor = (sandbox: string, role: Role = 'admin'): Promise<string> => {
    const cacheKey = `${sandbox}/${role}`;
    let key = keys.get(cacheKey);
    if (!key) {
      key =
        role === 'admin'
          ? tenancy.bootstrap(sandbox).then(({ generatedKey }) => {
              if (!generatedKey) throw new Error(`Sandbox ${sandbox} already had an admin key`);
              return generatedKey;
            })
          : keyFor(sandbox, 'admin')
              .then((adminKey) => tenancy.authenticate(adminKey))
              .then((admin) => tenancy.createApiKey(admin, { name: `test ${role}`, role }))
              .then((created) => created.key);
      keys.set(cacheKey, key);
    }
    return key;
  };

  let stopping: Promise<void> | undefined;
  return {
    gatewayUrl,
    wsUrl: platform.gateway.wsUrl,
    subgraphs: platform.subgraphs,
    databasePrefix,
    tenancy,
    keyFor,
    connectionParams: async (sandbox, role) => ({ authorization: `Bearer ${await keyFor(sandbox, role)}` }),
    async query(query, variables = {}, { sandbox, role, key, headers } = {}) {
      // An invalid sandbox name is sent with a valid key, so the gateway's answer to the name is what is tested.
      const keySandbox = sandbox && SANDBOX_NAME_PATTERN.test(sandbox) ? sandbox : 'default';
      const apiKey = key === undefined ? await keyFor(keySandbox, role) : key;
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
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
