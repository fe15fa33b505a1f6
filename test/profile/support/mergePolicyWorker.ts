/**
 * A jobs worker in its own process, for the killed-worker test:
 *   node --import tsx mergePolicyWorker.ts <mongoUri> <dbPrefix> <name> <stopAfterPages>
 * It runs only the merge policy job, with a short lock lifetime and small pages, and
 * records every page it finishes in the platform database (`{ worker, runId, pagesDone }`,
 * see mergePolicyPages.ts). With stopAfterPages > 0 it stops for good after that many
 * pages, so the test can kill it at a known point mid-run.
 */
import { createMergePolicyJob } from '../../../subgraphs/profile/mergePolicy/mergePolicy.job.js';
import { holdAfter, runWorkerProcess, WORKER_LOCK_LIFETIME_MS } from '../../support/workerProcessMain.js';
import { PAGES_COLLECTION, WORKER_PAGE_SIZE } from './mergePolicyPages.js';

await runWorkerProcess('mergePolicyWorker.ts <mongoUri> <dbPrefix> <name> <stopAfterPages>', ({ databases, name, args: [stopAfterPages] }) => {
  const pageDone = holdAfter(Number(stopAfterPages ?? 0));
  const job = createMergePolicyJob({
    lockLifetimeMs: WORKER_LOCK_LIFETIME_MS,
    pageSize: WORKER_PAGE_SIZE,
    afterPage: async ({ runId, pagesDone }) => {
      await databases.platform().collection(PAGES_COLLECTION).insertOne({ worker: name, runId, pagesDone });
      await pageDone();
    },
  });
  return { jobs: [job], processEveryMs: 100 };
});
