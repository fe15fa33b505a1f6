/**
 * A worker process running only the streaming evaluator, for the killed-worker test:
 *   node --import tsx streamingWorker.ts <mongoUri> <dbPrefix> <name>
 * Short leases and small chunks, so it is killed between many small writes. Prints `ready`.
 */
import { MongoClient } from 'mongodb';
import { startWorker } from '../../../../jobs/worker.js';
import { silentLogger } from '../../../../lib/logger.js';
import { createDatabases } from '../../../../lib/mongo/databases.js';
import { createStreamingEvaluatorService } from '../../../../subgraphs/segment/streaming/index.js';

const [uri, prefix, name] = process.argv.slice(2);
if (!uri || !prefix || !name) throw new Error('usage: streamingWorker.ts <mongoUri> <dbPrefix> <name>');

const client = new MongoClient(uri);
await client.connect();
await startWorker({
  databases: createDatabases(client, prefix),
  logger: silentLogger,
  subgraphUrls: { profile: 'http://127.0.0.1:1/graphql', account: 'http://127.0.0.1:1/graphql', segment: 'http://127.0.0.1:1/graphql', destination: 'http://127.0.0.1:1/graphql' },
  security: { gatewaySecret: 'w'.repeat(32) },
  jobs: [],
  services: [createStreamingEvaluatorService({ leaseMs: 1_500, renewEveryMs: 100, relistEveryMs: 200, maxAwaitMs: 50, heartbeatMs: 200, memberChunk: 4, batchSize: 20, owner: name })],
  processEveryMs: 60_000,
  name,
});
process.stdout.write('ready\n');
