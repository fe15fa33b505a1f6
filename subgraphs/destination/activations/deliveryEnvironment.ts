/**
 * What delivering needs, made once per worker process: the sandbox databases,
 * the credentials vault, connector deps with the one shared call budget and the
 * one token cache of the process, clocks, and the delivery settings.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../../lib/logger.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import { createIdGenerator } from '../../../lib/subgraph/ids.js';
import { sharedTokenCache } from '../../../lib/connectors/tokenCache.js';
import { createSharedBudget, type BudgetLimits, type ConnectorDeps } from '../connectors/index.js';
import { UNCONFIGURED_ADDRESS_POLICY } from '../../../lib/connectors/addressPolicy.js';
import { createCredentialsVault, type CredentialsVault } from '../../../lib/crypto/credentialsVault.js';
import { ApiBudgetRepository } from '../../../lib/connectors/apiBudget.repository.js';
import { DEFAULT_SEAL_WINDOW_MS, LogSeals } from './logSeal.js';

export interface DeliverySettings {
  /** Delivery attempts of one change (each with the connector's own retries) before it is dead-lettered. @default 8 */
  maxAttempts: number;
  /** The first wait before a failed change is tried again; doubled per attempt, with jitter. @default 30 s */
  retryBaseMs: number;
  /** The longest wait between attempts. @default 30 min */
  retryMaxMs: number;
  /** How long an activation whose destination cannot be used (bad config, no credentials) waits before it looks again. @default 60 s */
  blockedRetryMs: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = { maxAttempts: 8, retryBaseMs: 30_000, retryMaxMs: 30 * 60_000, blockedRetryMs: 60_000 };

export interface DeliveryEnvironment {
  databases: Databases;
  vault: CredentialsVault;
  connectorDeps: ConnectorDeps;
  now: () => Date;
  /** In [0, 1): jitter of retry delays. */
  random: () => number;
  /** Run ids (files and webhook idempotency keys derive from them). */
  runIds: () => string;
  logger: Logger;
  seals: LogSeals;
  /** How long after an activation its backfill starts: the log is sealed through its start position by then. */
  sealWindowMs: number;
  settings: DeliverySettings;
}

export interface DeliveryEnvironmentOptions {
  databases: Databases;
  encryptionKey: string;
  logger: Logger;
  now?: () => Date;
  /** Wall-clock milliseconds, for the log seal. @default Date.now */
  wall?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  random?: () => number;
  sealWindowMs?: number;
  settings?: Partial<DeliverySettings>;
  /** Marketo's limits when an instance has other ones than the published 100 per 20 s and 10 at once. */
  marketoLimits?: BudgetLimits;
  /** How many times the connector tries one call before reporting a retryable failure. @default 4 */
  connectorAttempts?: number;
  /** Whether destinations may reach loopback and private addresses (`config.security.allowPrivateDestinations`). */
  allowPrivateDestinations?: boolean;
}

export function createDeliveryEnvironment(options: DeliveryEnvironmentOptions): DeliveryEnvironment {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const random = options.random ?? Math.random;
  const logger = options.logger.child({ component: 'activations' });
  const ids = createIdGenerator(now);
  const sealWindowMs = options.sealWindowMs ?? DEFAULT_SEAL_WINDOW_MS;
  return {
    databases: options.databases,
    vault: createCredentialsVault(options.encryptionKey),
    connectorDeps: {
      fetch: options.fetch ?? fetch,
      now,
      sleep,
      random,
      // One budget per process over the platform database: every worker shares each Marketo instance's limits.
      budget: createSharedBudget(new ApiBudgetRepository(options.databases.platform()), { now, sleep }),
      logger: logger.child({ component: 'connectors' }),
      // The process's one cache: a Marketo source of the same instance and client uses the same token.
      tokenCache: sharedTokenCache(),
      maxAttempts: options.connectorAttempts ?? 4,
      marketoLimits: options.marketoLimits,
      addressPolicy: { allowPrivate: options.allowPrivateDestinations ?? UNCONFIGURED_ADDRESS_POLICY.allowPrivate },
    },
    now,
    random,
    runIds: () => ids('run'),
    logger,
    seals: new LogSeals(sealWindowMs, options.wall),
    sealWindowMs,
    settings: { ...DEFAULT_DELIVERY_SETTINGS, ...options.settings },
  };
}
