/** Production entry of a jobs worker: its own process, on the MongoDB named by MONGODB_URI. */
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { connectMongo, createDatabases } from '../lib/mongo/databases.js';
import { startWorker } from '../jobs/worker.js';

const config = loadConfig();
const logger = createLogger({ name: 'worker', level: config.logLevel });
if (!config.mongodbUri) {
  logger.fatal('MONGODB_URI is required to run a worker on its own; `npm start` runs one with an embedded database');
  process.exit(1);
}
const client = await connectMongo(config.mongodbUri);
const worker = await startWorker({
  databases: createDatabases(client, config.databasePrefix),
  logger,
  subgraphUrls: config.subgraphUrls,
  security: config.security,
});

const shutdown = async () => {
  await worker.stop();
  await client.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
