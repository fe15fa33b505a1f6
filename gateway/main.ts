/**
 * Production entry of the gateway as its own process: composes the supergraph
 * from supergraph.yaml with the subgraph URLs from config (PROFILE_URL, ...),
 * then serves http://HOST:GATEWAY_PORT/graphql. SIGINT/SIGTERM stop it cleanly.
 */
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { composeSupergraph } from './compose.js';
import { startGateway } from './server.js';

const config = loadConfig();
const logger = createLogger({ name: 'gateway', level: config.logLevel });

const gateway = await startGateway({
  supergraphSdl: await composeSupergraph({ routingUrls: config.subgraphUrls }),
  port: config.ports.gateway,
  host: config.host,
  logger,
  subgraphUrls: config.subgraphUrls,
  graphiql: config.mode !== 'production',
});

const shutdown = async () => {
  await gateway.stop();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
