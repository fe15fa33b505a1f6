/**
 * A jobs worker in its own process, for the killed-worker test:
 *   node --import tsx mergePolicyWorker.ts <mongoUri> <dbPrefix> <name> <stopAfterPages>
 * It runs only the merge policy job, with a short lock lifetime and small pages, and
 * records every page it finishes in the platform database (`{ worker, runId, pagesDone }`,
 * see mergePolicyPages.ts). With stopAfterPages > 0 it stops for good after that many
 * pages, so the test can kill it at a known point mid-run.
 */
import { MongoClient } from 'mongodb';
import { silentLogger } from '../../../lib/logger.js';
import { createDatabases } from '../../../lib/mongo/databases.js';
import { startWorker } from '../../../jobs/worker.js';
import { createMergePolicyJob } from '../../../subgraphs/profile/mergePolicy/mergePolicy.job.js';
import { PAGES_COLLECTION, WORKER_PAGE_SIZE } from './mergePolicyPages.js';

/** Short, so the next worker takes a killed worker's job over soon. */
const WORKER_LOCK_LIFETIME_MS = 1_500;

const [uri, prefix, name, stopArg] = process.argv.slice(2);
if (!uri || !prefix || !name) throw new Error('usage: mergePolicyWorker.ts <mongoUri> <dbPrefix> <name> <stopAfterPages>');
const stopAfter = Number(stopArg ?? 0);

const client = new MongoClient(uri);
await client.connect();
const databases = createDatabases(client, prefix);
let pages = 0;

const job = createMergePolicyJob({
  lockLifetimeMs: WORKER_LOCK_LIFETIME_MS,
  pageSize: WORKER_PAGE_SIZE,
  afterPage: async ({ runId, pagesDone }) => {
    await databases.platform().collection(PAGES_COLLECTION).insertOne({ worker: name, runId, pagesDone });
    if (stopAfter > 0 && ++pages === stopAfter) await new Promise(() => undefined);
  },
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
