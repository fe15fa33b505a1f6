/**
 * The source sync job: runs one sync of one source (runSync.ts) on a worker,
 * writing through the subgraphs as an editor of the source's sandbox. The
 * repeating job of a source respects its backoff and waits, after a permanent
 * failure (bad credentials), until the source is changed; a `syncSource` run
 * tries at once. Two jobs of one source never sync at once (the source's lease).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Agenda } from 'agenda';
import { UNCONFIGURED_ADDRESS_POLICY } from '../../../lib/connectors/addressPolicy.js';
import { ApiBudgetRepository } from '../../../lib/connectors/apiBudget.repository.js';
import { createSharedBudget } from '../../../lib/connectors/sharedBudget.js';
import { sharedTokenCache } from '../../../lib/connectors/tokenCache.js';
import type { JobDependencies, JobModule } from '../../../lib/jobs.js';
import { createIdGenerator } from '../../../lib/subgraph/ids.js';
import { createIngestionClient } from '../imports/ingestionClient.js';
import type { SourceConnectorDeps } from './connectors/sourceConnector.js';
import { openSourceConnector } from './openSourceConnector.js';
import { runSync } from './runSync.js';
import { SourceRunsRepository } from './sourceRuns.repository.js';
import { SourcesRepository } from './sources.repository.js';
import { SOURCE_SYNC_JOB_NAME, type SourceSyncPayload } from './sourceSyncScheduler.js';

export { SOURCE_SYNC_JOB_NAME, type SourceSyncPayload };

/** Longer than a sync's lease: a killed worker's job is retried after the source's lease has lapsed. */
const LOCK_LIFETIME_MS = 5 * 60_000;

/** What a worker process's connectors share: the instance budgets in MongoDB, the token cache and the address policy. */
export function workerConnectorDeps(deps: JobDependencies): SourceConnectorDeps {
  const sleep = (ms: number) => delay(ms);
  return {
    fetch,
    now: deps.now,
    sleep,
    budget: createSharedBudget(new ApiBudgetRepository(deps.databases.platform()), { now: deps.now, sleep }),
    logger: deps.logger.child({ component: 'source-connectors' }),
    tokenCache: sharedTokenCache(),
    addressPolicy: { allowPrivate: deps.security.allowPrivateDestinations ?? UNCONFIGURED_ADDRESS_POLICY.allowPrivate },
  };
}

export const sourceSyncJob: JobModule = {
  name: SOURCE_SYNC_JOB_NAME,
  define(agenda: Agenda, deps) {
    const connectorDeps = workerConnectorDeps(deps);
    const runIds = createIdGenerator(deps.now);
    agenda.define<SourceSyncPayload>(
      SOURCE_SYNC_JOB_NAME,
      async (job) => {
        const { sandbox, sourceId, mode, scheduled } = job.attrs.data;
        const logger = deps.logger.child({ job: SOURCE_SYNC_JOB_NAME, sandbox, sourceId });
        const db = deps.databases.sandbox(sandbox);
        const sources = new SourcesRepository(db);
        const source = await sources.findById(sourceId);
        if (!source) return;
        if (scheduled && source.failure && !source.failure.retryable) return;
        if (scheduled && source.nextAttemptAt && source.nextAttemptAt > deps.now()) return;
        if (!deps.security.encryptionKey) {
          logger.error('The worker has no encryption key, so it cannot open source credentials');
          return;
        }
        const encryptionKey = deps.security.encryptionKey;
        const outcome = await runSync(sourceId, mode, {
          sources,
          runs: new SourceRunsRepository(db),
          client: createIngestionClient({
            subgraphUrls: deps.subgraphUrls,
            gatewaySecret: deps.security.gatewaySecret,
            principal: { sandbox, role: 'editor' },
          }),
          connectorFor: (found) => openSourceConnector(found, sources, encryptionKey, connectorDeps),
          logger,
          now: deps.now,
          runIds: () => runIds('run'),
        });
        if (outcome.kind === 'busy') logger.debug('Source is being synced by another job; this run skipped');
      },
      { concurrency: 4, lockLifetime: LOCK_LIFETIME_MS },
    );
  },
};
