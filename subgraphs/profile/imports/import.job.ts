/**
 * The import job: runs one uploaded file's import (runImport.ts) on a worker,
 * writing through the subgraphs as the principal who started it. A killed
 * worker's job is picked up again when its lock expires and resumes from the
 * last checkpoint; the lock is extended as batches complete.
 */
import type { JobModule } from '../../../lib/jobs.js';
import { importRowCounter } from '../../../lib/metrics/jobMetrics.js';
import { ImportsRepository } from './imports.repository.js';
import { createIngestionClient } from './ingestionClient.js';
import { IMPORT_JOB_NAME, type ImportJobPayload } from './payload.js';
import { runImport } from './runImport.js';

export { IMPORT_JOB_NAME, type ImportJobPayload };

/** Longer than any batch takes; extended while batches complete. */
const LOCK_LIFETIME_MS = 5 * 60_000;
/** How often the lock is extended: well within its lifetime, without a write per batch. */
const LOCK_RENEW_EVERY_MS = 30_000;
/** The subgraphs and MongoDB work on one batch while the next is read, mapped and sent. */
export const IMPORT_BATCHES_IN_FLIGHT = 3;

export const importJob: JobModule = {
  name: IMPORT_JOB_NAME,
  define(agenda, deps) {
    agenda.define<ImportJobPayload>(
      IMPORT_JOB_NAME,
      async (job) => {
        const { sandbox, importId, principal } = job.attrs.data;
        const logger = deps.logger.child({ job: IMPORT_JOB_NAME, sandbox, importId });
        let renewedAt = Date.now();
        const countRows = importRowCounter();
        await runImport(importId, {
          imports: new ImportsRepository(deps.databases.sandbox(sandbox)),
          client: createIngestionClient({
            subgraphUrls: deps.subgraphUrls,
            gatewaySecret: deps.security.gatewaySecret,
            // The token's sandbox is the job's, whatever the payload's principal says.
            principal: { ...principal, sandbox },
          }),
          logger,
          now: deps.now,
          batchesInFlight: IMPORT_BATCHES_IN_FLIGHT,
          onProgress: async (progress) => {
            logger.debug(progress, 'Import progress');
            countRows(progress);
            if (Date.now() - renewedAt >= LOCK_RENEW_EVERY_MS) {
              renewedAt = Date.now();
              await job.touch();
            }
          },
        });
      },
      { concurrency: 2, lockLifetime: LOCK_LIFETIME_MS },
    );
  },
};
