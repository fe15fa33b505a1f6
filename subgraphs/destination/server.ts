/** Starts the destination subgraph: where audiences are pushed, with write-only credentials. */
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger } from '../../lib/logger.js';
import { createIdGenerator, type IdGenerator } from '../../lib/subgraph/ids.js';
import { loadTypeDefs } from '../../lib/subgraph/schema.js';
import { startSubgraphServer, type SubgraphStartOptions } from '../../lib/subgraph/server.js';
import type { RunningService } from '../../lib/service.js';
import { agendaActivationScheduling } from './activations/activationScheduler.js';
import { DEFAULT_SEAL_WINDOW_MS } from './activations/logSeal.js';
import { UNCONFIGURED_ADDRESS_POLICY } from '../../lib/connectors/addressPolicy.js';
import type { ConnectorDeps, FetchFn } from './connectors/connector.js';
import { createSharedBudget } from '../../lib/connectors/sharedBudget.js';
import { createDestinationContext, type DestinationContext } from './context.js';
import { createCredentialsVault } from '../../lib/crypto/credentialsVault.js';
import { ApiBudgetRepository } from '../../lib/connectors/apiBudget.repository.js';
import { resolvers } from './resolvers.js';

export const DESTINATION_TYPE_DEFS = loadTypeDefs(new URL('./schema.graphql', import.meta.url));

export interface DestinationSubgraphOptions extends SubgraphStartOptions {
  /** `config.security`; `allowPrivateDestinations` says whether destinations may reach loopback and private addresses. */
  security: SubgraphStartOptions['security'] & { readonly allowPrivateDestinations?: boolean };
  ids?: IdGenerator;
  /** How connectors reach destinations. @default the global fetch */
  fetch?: FetchFn;
  /** How long after activating the backfill starts (the event log's seal window). @default 3 000 ms */
  backfillDelayMs?: number;
}

export async function startDestinationSubgraph(options: DestinationSubgraphOptions): Promise<RunningService> {
  const ids = options.ids ?? createIdGenerator(options.now);
  const credentials = createCredentialsVault(options.security.encryptionKey);
  const now = options.now ?? (() => new Date());
  const sleep = (ms: number) => delay(ms);
  const logger = options.logger ?? silentLogger;
  const addressPolicy = { allowPrivate: options.security.allowPrivateDestinations ?? UNCONFIGURED_ADDRESS_POLICY.allowPrivate };
  if (addressPolicy.allowPrivate) {
    logger.warn('Destinations may reach loopback and private addresses (CDP_ALLOW_PRIVATE_DESTINATIONS, on outside production)');
  }
  const connectorDeps: ConnectorDeps = {
    fetch: options.fetch ?? fetch,
    addressPolicy,
    now,
    sleep,
    // Connection tests share the per-instance budgets with deliveries, so testing never causes a 606.
    budget: createSharedBudget(new ApiBudgetRepository(options.databases.platform()), { now, sleep, maxWaitMs: 10_000 }),
    logger: logger.child({ component: 'connectors' }),
    // An answer now beats a retried one: the caller is waiting.
    maxAttempts: 1,
    requestTimeoutMs: 10_000,
  };
  // Scheduled activations become jobs in the worker's Agenda collection; this process never runs them.
  const scheduling = agendaActivationScheduling(options.databases);
  const backfillDelayMs = options.backfillDelayMs ?? DEFAULT_SEAL_WINDOW_MS;
  return startSubgraphServer<DestinationContext>({
    ...options,
    name: 'destination',
    typeDefs: DESTINATION_TYPE_DEFS,
    resolvers,
    createContext: (scope) => createDestinationContext(scope, { ids, credentials, connectorDeps, databases: options.databases, scheduling, backfillDelayMs }),
  });
}
