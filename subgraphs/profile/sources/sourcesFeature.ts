/**
 * What the profile subgraph's process holds for sources (made once at start):
 * the credentials vault, the job scheduling, and connector deps for `testSource`
 * that share the instance budgets and token cache with every other process and
 * connector; and the per-request service made from it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { UNCONFIGURED_ADDRESS_POLICY } from '../../../lib/connectors/addressPolicy.js';
import { ApiBudgetRepository } from '../../../lib/connectors/apiBudget.repository.js';
import { createSharedBudget } from '../../../lib/connectors/sharedBudget.js';
import { sharedTokenCache } from '../../../lib/connectors/tokenCache.js';
import { silentLogger, type Logger } from '../../../lib/logger.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import { serviceDeps } from '../../../lib/subgraph/context.js';
import type { IdGenerator } from '../../../lib/subgraph/ids.js';
import type { RequestScope } from '../../../lib/subgraph/requestScope.js';
import type { SourceConnectorDeps } from './connectors/sourceConnector.js';
import { createCredentialsVault, type CredentialsVault } from '../../../lib/crypto/credentialsVault.js';
import { SourceRunsRepository } from './sourceRuns.repository.js';
import { SourcesRepository } from './sources.repository.js';
import { SourcesService } from './sources.service.js';
import { agendaSourceSyncScheduling, type SourceSyncScheduling } from './sourceSyncScheduler.js';

export interface SourcesFeature {
  credentials: CredentialsVault;
  encryptionKey: string;
  connectorDeps: SourceConnectorDeps;
  scheduling: SourceSyncScheduling;
}

export interface SourcesFeatureOptions {
  databases: Databases;
  encryptionKey: string;
  /** Whether sources may be at loopback and private addresses (`config.security.allowPrivateDestinations`). */
  allowPrivateAddresses?: boolean;
  logger?: Logger;
  now?: () => Date;
  fetch?: typeof fetch;
}

export function createSourcesFeature(options: SourcesFeatureOptions): SourcesFeature {
  const now = options.now ?? (() => new Date());
  const sleep = (ms: number) => delay(ms);
  return {
    credentials: createCredentialsVault(options.encryptionKey),
    encryptionKey: options.encryptionKey,
    connectorDeps: {
      fetch: options.fetch ?? fetch,
      now,
      sleep,
      budget: createSharedBudget(new ApiBudgetRepository(options.databases.platform()), { now, sleep, maxWaitMs: 10_000 }),
      logger: (options.logger ?? silentLogger).child({ component: 'source-connectors' }),
      tokenCache: sharedTokenCache(),
      addressPolicy: { allowPrivate: options.allowPrivateAddresses ?? UNCONFIGURED_ADDRESS_POLICY.allowPrivate },
      // An answer now beats a retried one: the caller of testSource is waiting.
      maxAttempts: 1,
      requestTimeoutMs: 10_000,
    },
    scheduling: agendaSourceSyncScheduling(options.databases),
  };
}

export function createSourcesService(scope: RequestScope, ids: IdGenerator, feature: SourcesFeature): SourcesService {
  return new SourcesService(new SourcesRepository(scope.db), new SourceRunsRepository(scope.db), { ...serviceDeps(scope, ids), ...feature });
}
