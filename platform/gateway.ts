/**
 * Production entry of the gateway as its own process: composes the supergraph
 * from supergraph.yaml with the subgraph URLs from config (PROFILE_URL, ...),
 * then serves http://HOST:GATEWAY_PORT/graphql. SIGINT/SIGTERM stop it cleanly.
 */
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { connectMongo, createDatabases } from '../lib/mongo/databases.js';
import { composeSupergraph } from '../gateway/compose.js';
import { startPlatformGateway } from '../gateway/startPlatformGateway.js';

const config = loadConfig();
const logger = createLogger({ name: 'gateway', level: config.logLevel });

if (!config.mongodbUri) {
  logger.fatal('MONGODB_URI is required to run the gateway on its own (it checks API keys); `npm start` runs everything with an embedded database');
  process.exit(1);
}
const client = await connectMongo(config.mongodbUri);
const { gateway } = await startPlatformGateway({
  config,
  databases: createDatabases(client, config.databasePrefix),
  supergraphSdl: await composeSupergraph({ routingUrls: config.subgraphUrls }),
  subgraphUrls: config.subgraphUrls,
  port: config.ports.gateway,
  host: config.host,
  logger,
  graphiql: config.mode !== 'production',
});

const shutdown = async () => {
  await gateway.stop();
  await client.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
