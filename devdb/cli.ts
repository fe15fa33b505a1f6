import { parseArgs } from 'node:util';
import { startDevDb } from './index.js';

/** `npm run devdb -- --port 27099`: runs devdb until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '27017' },
      host: { type: 'string', default: '127.0.0.1' },
      'repl-set': { type: 'string', default: 'devdb' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`devdb: --port must be an integer 0..65535, got '${values.port}'`);
    process.exit(2);
  }
  const log = (line: string): void => console.log(`[${new Date().toISOString()}] ${line}`);
  const db = await startDevDb({ port, host: values.host, replSetName: values['repl-set'], logger: log });
  console.log('devdb is an in-memory MongoDB-compatible server for machines without mongod; all data is lost when it stops.');
  console.log(`MONGODB_URI=${db.uri}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`devdb: ${signal} received, stopping`);
    db.stop().then(() => process.exit(0), (err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('devdb failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
