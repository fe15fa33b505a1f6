/**
 * A jobs worker in its own process, for the killed-worker test:
 *   node --import tsx evaluationWorker.ts <mongoUri> <dbPrefix> <name> <gateAfter>
 * It runs only `evaluateSegments`, with a short lock lifetime, small write batches and
 * qualifying members from the test predicate source. With gateAfter > 0 it stops for good
 * after that many membership writes, having recorded `{ _id: <name> }` in the platform
 * database's `testGates`, so the test can kill it at a known point mid-run.
 */
import { MongoClient } from 'mongodb';
import { silentLogger } from '../../../../lib/logger.js';
import { createDatabases } from '../../../../lib/mongo/databases.js';
import { startWorker } from '../../../../jobs/worker.js';
import { createEvaluateSegmentsJob } from '../../../../subgraphs/segment/evaluation/evaluateSegments.job.js';
import { predicateSource } from './predicateSource.js';
import { GATES_COLLECTION } from './workerGate.js';

/** Short, so the next worker takes a killed worker's job over soon. */
const WORKER_LOCK_LIFETIME_MS = 1_500;

const [uri, prefix, name, gateArg] = process.argv.slice(2);
if (!uri || !prefix || !name) throw new Error('usage: evaluationWorker.ts <mongoUri> <dbPrefix> <name> <gateAfter>');
const gateAfter = Number(gateArg ?? 0);

const client = new MongoClient(uri);
await client.connect();
const databases = createDatabases(client, prefix);
let writes = 0;

const job = createEvaluateSegmentsJob({
  lockLifetimeMs: WORKER_LOCK_LIFETIME_MS,
  qualifying: predicateSource,
  batchSize: 10,
  progressEvery: 10,
  wrapWriter: (base) => ({
    appendEvents: (events) => base.appendEvents(events),
    applyTransitions: async (transitions) => {
      await base.applyTransitions(transitions);
      if (gateAfter > 0 && ++writes === gateAfter) {
        await databases.platform().collection<{ _id: string }>(GATES_COLLECTION).insertOne({ _id: name });
        await new Promise(() => undefined);
      }
    },
  }),
});

await startWorker({
  databases,
  logger: silentLogger,
  subgraphUrls: { profile: 'http://127.0.0.1:1/graphql', account: 'http://127.0.0.1:1/graphql', segment: 'http://127.0.0.1:1/graphql', destination: 'http://127.0.0.1:1/graphql' },
  security: { gatewaySecret: 'w'.repeat(32) },
  jobs: [job],
  services: [],
  processEveryMs: 100,
  name,
});
process.stdout.write('ready\n');
