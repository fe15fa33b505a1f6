/**
 * What every `start:*` entry does around its part: load and check config, connect
 * to MONGODB_URI (a part on its own never starts a database; `npm start` does),
 * start the part, and stop it, then the client, on SIGINT/SIGTERM. Every process
 * of a deployment must share `config.security` (the gateway's token secret and the
 * encryption key).
 */
import { ConfigError, loadConfig, type Config } from '../lib/config.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { connectMongo, createDatabases, type Databases } from '../lib/mongo/databases.js';
import { letGoOfEventLogs } from '../subgraphs/segment/memberships/eventLogAppends.js';

export interface PartContext {
  config: Config;
  logger: Logger;
  databases: Databases;
}

/**
 * Runs one part as this process. `needsMongo` says why the part needs MongoDB, for the message
 * shown when MONGODB_URI is missing.
 */
export async function runPart(name: string, needsMongo: string, start: (context: PartContext) => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ name, level: config.logLevel, logRequestData: config.logRequestData });
  if (!config.mongodbUri) {
    logger.fatal(`MONGODB_URI is required to run the ${name} on its own (${needsMongo}); \`npm start\` runs everything with an embedded database`);
    process.exit(1);
  }
  const client = await connectMongo(config.mongodbUri);
  const part = await start({ config, logger, databases: createDatabases(client, config.databasePrefix) });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Stopping');
    try {
      await part.stop();
      await letGoOfEventLogs(client);
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
