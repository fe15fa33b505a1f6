/** `npm run start:worker`: a jobs worker as its own process; several may run side by side. */
import { startWorker } from '../jobs/worker.js';
import { runPart } from './runPart.js';

await runPart('worker', 'jobs are kept there', ({ config, logger, databases }) =>
  startWorker({ databases, logger, subgraphUrls: config.subgraphUrls, security: config.security, audiences: config.audiences }),
);
