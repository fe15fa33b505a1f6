/**
 * A jobs worker in its own process, for the killed-worker test:
 *   node --import tsx evaluationWorker.ts <mongoUri> <dbPrefix> <name> <gateAfter>
 * It runs only `evaluateSegments`, with a short lock lifetime, small write batches and
 * qualifying members from the test predicate source. With gateAfter > 0 it stops for good
 * after that many membership writes, having recorded `{ _id: <name> }` in the platform
 * database's `testGates`, so the test can kill it at a known point mid-run.
 */
import { createEvaluateSegmentsJob } from '../../../../subgraphs/segment/evaluation/evaluateSegments.job.js';
import { holdAfter, runWorkerProcess, WORKER_LOCK_LIFETIME_MS } from '../../../support/workerProcessMain.js';
import { predicateSource } from './predicateSource.js';
import { GATES_COLLECTION } from './workerGate.js';

await runWorkerProcess('evaluationWorker.ts <mongoUri> <dbPrefix> <name> <gateAfter>', ({ databases, name, args: [gateAfter] }) => {
  const written = holdAfter(Number(gateAfter ?? 0), () => databases.platform().collection<{ _id: string }>(GATES_COLLECTION).insertOne({ _id: name }));
  const job = createEvaluateSegmentsJob({
    lockLifetimeMs: WORKER_LOCK_LIFETIME_MS,
    qualifying: predicateSource,
    batchSize: 10,
    progressEvery: 10,
    wrapWriter: (base) => ({
      appendEvents: (events) => base.appendEvents(events),
      applyTransitions: async (transitions) => {
        await base.applyTransitions(transitions);
        await written();
      },
    }),
  });
  return { jobs: [job], processEveryMs: 100 };
});
