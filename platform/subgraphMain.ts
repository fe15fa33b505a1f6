/**
 * Production entry shared by the subgraphs' `start:*` entries: load config, connect to
 * MONGODB_URI, start with `config.security` (the gateway's token secret and the
 * encryption key, which every process of a deployment must share), and stop
 * gracefully on SIGINT/SIGTERM.
 */
import { loadConfig, type SubgraphName } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { connectMongo, createDatabases } from '../lib/mongo/databases.js';
import type { RunningService } from '../lib/service.js';
import type { SubgraphStartOptions } from '../lib/subgraph/server.js';

export async function runSubgraphMain(
  name: SubgraphName,
  start: (options: SubgraphStartOptions) => Promise<RunningService>,
): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: `subgraph-${name}`, level: config.logLevel });
  if (!config.mongodbUri) {
    logger.fatal('MONGODB_URI is not set. Set it to run one subgraph alone, or run `npm start` to start every service with an embedded MongoDB.');
    process.exit(1);
  }
  const client = await connectMongo(config.mongodbUri);
  const service = await start({
    databases: createDatabases(client, config.databasePrefix),
    security: config.security,
    port: config.ports[name],
    host: config.host,
    logger,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Stopping');
    try {
      await service.stop();
      await client.close();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'Error while stopping');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
