/**
 * Hive Gateway's runtime logs through its own Logger; this writer sends those
 * logs to our pino logger, so a process has one log stream in one format.
 */
import { Logger as HiveLogger, type LogLevel as HiveLogLevel } from '@graphql-hive/logger';
import type { Logger } from '../lib/logger.js';

const PINO_TO_HIVE: Record<string, HiveLogLevel | false> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'error',
  silent: false,
};

export function toHiveLogger(logger: Logger): HiveLogger {
  return new HiveLogger({
    level: PINO_TO_HIVE[logger.level] ?? 'info',
    writers: [
      {
        write(level, attrs, msg) {
          const fields = attrs && !Array.isArray(attrs) ? attrs : attrs ? { attrs } : {};
          logger[level](fields, msg ?? '');
        },
      },
    ],
  });
}
