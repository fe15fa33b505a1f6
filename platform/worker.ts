/**
 * `npm run start:worker`: a jobs worker as its own process; several may run side by side.
 * Its metrics are served on WORKER_METRICS_PORT (several workers on one host need one port each).
 */
import { startWorker } from '../jobs/worker.js';
import { runPart } from './runPart.js';

await runPart('worker', 'jobs are kept there', ({ config, logger, databases }) =>
  startWorker({
    databases,
    logger,
    subgraphUrls: config.subgraphUrls,
    security: config.security,
    audiences: config.audiences,
    metrics: { port: config.workerMetricsPort, host: config.host },
  }),
);
