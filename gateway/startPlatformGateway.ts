/**
 * The gateway as the platform runs it: API keys checked against the platform
 * database, signed tokens for the subgraphs, the per-key rate limit, request
 * limits, the admin API and the audit log. Used by platform/gateway.ts and by the
 * all-in-one launcher, so both run the same gateway.
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { createGatewayTokenSigner } from '../lib/auth/gatewayToken.js';
import type { Config, SubgraphName } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { Databases } from '../lib/mongo/databases.js';
import { createMongoRateLimiter } from '../lib/tenancy/rateLimiter.js';
import { TenancyRepository } from '../lib/tenancy/tenancy.repository.js';
import { TenancyService } from '../lib/tenancy/tenancy.service.js';
import { startAdminEndpoint } from './admin/adminServer.js';
import { followApiKeyChanges } from './apiKeyChanges.js';
import { createApiKeyAuthenticator } from './authenticate.js';
import { useAuditLog } from './plugins/useAuditLog.js';
import { startGateway, type RunningGateway } from './server.js';

export interface StartPlatformGatewayOptions {
  config: Config;
  databases: Databases;
  supergraphSdl: string;
  subgraphUrls: Readonly<Record<SubgraphName, string>>;
  port: number;
  host: string;
  logger: Logger;
  graphiql?: boolean;
  plugins?: GatewayPlugin[];
  now?: () => Date;
  /** Share one subgraph response among identical in-flight queries (runtime.ts); off only to benchmark. @default true */
  deduplicateSubgraphRequests?: boolean;
}

export interface PlatformGateway {
  gateway: RunningGateway;
  tenancy: TenancyService;
}

export async function startPlatformGateway(options: StartPlatformGatewayOptions): Promise<PlatformGateway> {
  const { config, databases, logger } = options;
  const { security } = config;
  const platformDb = databases.platform();
  const repository = new TenancyRepository(platformDb);
  const tenancy = new TenancyService({
    repository,
    dropSandboxData: (sandbox) => databases.dropSandbox(sandbox),
    now: options.now,
  });
  // Revocations reach this process as they are committed, so cached keys are served while they are re-read.
  const keyChanges = followApiKeyChanges(repository, { logger });
  const authenticator = createApiKeyAuthenticator({
    lookup: (key) => tenancy.authenticate(key),
    keyChanges,
    signer: createGatewayTokenSigner(security.gatewaySecret),
    failuresPerMinute: security.authFailuresPerMinute,
    isSandboxDeleted: (sandbox) => databases.isSandboxDeleted(sandbox),
    // The key cache follows the platform's clock, so a revoked key's expiry can be tested without waiting.
    now: options.now && (() => options.now!().getTime()),
  });
  const rateLimiter = await createMongoRateLimiter(platformDb, { requestsPerMinute: security.rateLimitPerMinute, logger });
  const admin = await startAdminEndpoint({
    tenancy,
    authenticator,
    rateLimiter,
    logger,
    introspection: security.introspection,
    limits: security.limits,
  });
  const gateway = await startGateway({
    supergraphSdl: options.supergraphSdl,
    subgraphUrls: options.subgraphUrls,
    port: options.port,
    host: options.host,
    logger,
    authenticator,
    rateLimiter,
    limits: security.limits,
    subscriptionLimits: security.subscriptions,
    introspection: security.introspection,
    admin,
    graphiql: options.graphiql,
    deduplicateSubgraphRequests: options.deduplicateSubgraphRequests,
    plugins: [
      useAuditLog({ record: (principal, action, target) => tenancy.audit(principal, action, target), logger }),
      ...(options.plugins ?? []),
    ],
  });
  // The limiter's last counts are settled once the gateway takes no more requests.
  const stopGateway = gateway.stop.bind(gateway);
  gateway.stop = async () => {
    await stopGateway();
    await Promise.all([rateLimiter.close(), keyChanges.close()]);
  };
  return { gateway, tenancy };
}
