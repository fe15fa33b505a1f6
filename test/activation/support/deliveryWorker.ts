/** A worker process running only activation delivery, for the killed-worker test: `deliveryWorker.ts <uri> <dbPrefix> <name> <encryptionKey>`. */
import { createActivationDeliveryService } from '../../../subgraphs/destination/activations/index.js';
import { runWorkerProcess } from '../../support/workerProcessMain.js';

const USAGE = 'deliveryWorker.ts <mongoUri> <dbPrefix> <name> <encryptionKey>';

await runWorkerProcess(USAGE, ({ name, args: [encryptionKey] }) => {
  if (!encryptionKey) throw new Error(`usage: ${USAGE}`);
  return {
    services: [createActivationDeliveryService({ leaseMs: 1_500, renewEveryMs: 100, pollMs: 100, owner: name, sealWindowMs: 200 })],
    processEveryMs: 60_000,
    encryptionKey,
  };
});
