/**
 * A worker process running only the streaming evaluator, for the killed-worker test:
 *   node --import tsx streamingWorker.ts <mongoUri> <dbPrefix> <name>
 * Short leases and small chunks, so it is killed between many small writes. Prints `ready`.
 */
import { createStreamingEvaluatorService } from '../../../../subgraphs/segment/streaming/index.js';
import { runWorkerProcess } from '../../../support/workerProcessMain.js';

await runWorkerProcess('streamingWorker.ts <mongoUri> <dbPrefix> <name>', ({ name }) => ({
  services: [createStreamingEvaluatorService({ leaseMs: 1_500, renewEveryMs: 100, relistEveryMs: 200, maxAwaitMs: 50, heartbeatMs: 200, memberChunk: 4, batchSize: 20, owner: name })],
  processEveryMs: 60_000,
}));
