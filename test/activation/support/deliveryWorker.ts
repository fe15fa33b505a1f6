/** A worker process running only activation delivery, for the killed-worker test: `deliveryWorker.ts <uri> <dbPrefix> <encryptionKey> <name>`. */
import { MongoClient } from 'mongodb';
import { startWorker } from '../../../jobs/worker.js';
import { silentLogger } from '../../../lib/logger.js';
import { createDatabases } from '../../../lib/mongo/databases.js';
import { createActivationDeliveryService } from '../../../subgraphs/destination/activations/index.js';

const [uri, prefix, encryptionKey, name] = process.argv.slice(2);
if (!uri || !prefix || !encryptionKey || !name) throw new Error('usage: deliveryWorker.ts <mongoUri> <dbPrefix> <encryptionKey> <name>');

const client = new MongoClient(uri);
await client.connect();
const unreachable = 'http://127.0.0.1:1/graphql';
await startWorker({
  databases: createDatabases(client, prefix),
  logger: silentLogger,
  subgraphUrls: { profile: unreachable, account: unreachable, segment: unreachable, destination: unreachable },
  security: { gatewaySecret: 'w'.repeat(32), encryptionKey },
  jobs: [],
  services: [createActivationDeliveryService({ leaseMs: 1_500, renewEveryMs: 100, pollMs: 100, owner: name, sealWindowMs: 200 })],
  processEveryMs: 60_000,
  name,
});
process.stdout.write('ready\n');
