/**
 * `npm start`: the whole platform in one process on the documented ports
 * (gateway 4000, profile 4001, account 4002, segment 4003, destination 4004),
 * with MongoDB from MONGODB_URI, mongodb-memory-server or devdb. Ctrl-C or
 * SIGTERM stops everything cleanly.
 */
import { ConfigError, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { startPlatform } from './startPlatform.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
const logger = createLogger({ name: 'cdp', level: config.logLevel, logRequestData: config.logRequestData });
const platform = await startPlatform({ config, logger });

const lines = [
  '',
  'B2B CDP is running:',
  `  GraphQL (HTTP and graphql-ws)  ${platform.gateway.url}`,
  `  Health                          ${new URL('/healthz', platform.gateway.url)}`,
  `  Metrics (Prometheus)            ${new URL('/metrics', platform.gateway.url)}`,
  ...Object.values(platform.subgraphs).map((s) => `  ${`${s.name} subgraph`.padEnd(31)} ${s.url}`),
  `  Admin API                       ${new URL('/admin/graphql', platform.gateway.url)}`,
  `  MongoDB                         ${platform.mongoUri}`,
  '',
  ...(platform.generatedAdminKey
    ? [
        'Admin API key of sandbox "default" (shown once; set CDP_BOOTSTRAP_KEY to choose your own):',
        `  ${platform.generatedAdminKey}`,
        'Send it as "Authorization: Bearer <key>".',
        '',
      ]
    : config.security.bootstrapKey
      ? ['Admin API key of sandbox "default": the one in CDP_BOOTSTRAP_KEY.', '']
      : []),
  'Press Ctrl-C to stop.',
  '',
];
process.stdout.write(lines.join('\n'));

let shutdownStartedAt: number | undefined;
const shutdown = async (signal: NodeJS.Signals) => {
  if (shutdownStartedAt !== undefined) {
    // Ctrl-C reaches this process both from the terminal and forwarded by npm/tsx:
    // only a later, deliberate second signal forces the exit.
    if (Date.now() - shutdownStartedAt < 2_000) return;
    logger.warn({ signal }, 'Second signal: exiting now');
    process.exit(1);
  }
  shutdownStartedAt = Date.now();
  logger.info({ signal }, 'Stopping the platform');
  try {
    await platform.stop();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'The platform did not stop cleanly');
    process.exit(1);
  }
};
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
