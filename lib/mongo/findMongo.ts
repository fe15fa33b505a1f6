/**
 * How a process finds MongoDB, in order (DESIGN.md section 6):
 *   1. MONGODB_URI: a real deployment.
 *   2. mongodb-memory-server as a single-node replica set, when a mongod binary
 *      is available (MONGOMS_SYSTEM_BINARY, a cached download, or a download that
 *      succeeds within a short timeout).
 *   3. devdb: our embedded MongoDB-wire-compatible server.
 * The choice and the reason are logged, so nobody mistakes devdb for a real server.
 * `only` skips the search and insists on one kind (the test suite's
 * CDP_TEST_MONGO), failing with the reason when it cannot be had.
 */
import type { Logger } from '../logger.js';

export type MongoSource = 'uri' | 'memory-server' | 'devdb';

export interface FoundMongo {
  uri: string;
  source: MongoSource;
  /** Stops the embedded server this process started (no-op for MONGODB_URI). */
  stop(): Promise<void>;
}

export interface FindMongoOptions {
  mongodbUri: string | undefined;
  logger: Logger;
  /** How long a mongod download may take before falling back to devdb. */
  downloadTimeoutMs?: number;
  /** Port for an embedded server; 0 picks a free one. */
  port?: number;
  /** Use this kind or fail, instead of searching in order. */
  only?: MongoSource;
}

export async function findMongo(options: FindMongoOptions): Promise<FoundMongo> {
  const { logger, only } = options;
  if (only === 'uri' && !options.mongodbUri) {
    throw new Error('A real MongoDB was required but MONGODB_URI is not set');
  }
  if (options.mongodbUri && (only === undefined || only === 'uri')) {
    logger.info({ source: 'uri' }, 'Using MongoDB from MONGODB_URI');
    return { uri: options.mongodbUri, source: 'uri', stop: async () => {} };
  }

  if (only === undefined || only === 'memory-server') {
    const memory = await tryMemoryServer(options);
    if ('uri' in memory) return memory;
    if (only === 'memory-server') throw new Error(`mongodb-memory-server was required but is not available: ${memory.reason}`);
    logger.info({ reason: memory.reason }, 'mongodb-memory-server is not available; falling back to devdb');
  }

  const { startDevDb } = await import('../../devdb/index.js');
  const devdb = await startDevDb({ port: options.port ?? 0, logger: logger.child({ component: 'devdb' }) });
  logger.warn(
    { source: 'devdb', uri: devdb.uri },
    `Using devdb, the embedded in-memory MongoDB-compatible server (${only === 'devdb' ? 'required' : 'no mongod binary found'}; data is lost on exit). Set MONGODB_URI to use a real MongoDB.`,
  );
  return { uri: devdb.uri, source: 'devdb', stop: () => devdb.stop() };
}

async function tryMemoryServer(options: FindMongoOptions): Promise<FoundMongo | { reason: string }> {
  const { logger } = options;
  const timeoutMs = options.downloadTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const { MongoBinary, MongoMemoryReplSet } = await import('mongodb-memory-server');
    const binaryPath = await Promise.race([
      MongoBinary.getPath(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no mongod binary within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const replSet = await MongoMemoryReplSet.create({
      replSet: { count: 1, storageEngine: 'wiredTiger' },
      binary: { systemBinary: binaryPath },
      instanceOpts: options.port ? [{ port: options.port }] : undefined,
    });
    const uri = replSet.getUri();
    logger.info({ source: 'memory-server', binaryPath }, 'Using mongodb-memory-server (single-node replica set)');
    return { uri, source: 'memory-server', stop: async () => void (await replSet.stop()) };
  } catch (error) {
    return { reason: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
