/**
 * Structured JSON logging (pino). One root logger per process; children per component.
 *
 * Every line is bounded and carries no request data: whatever a caller (or a
 * library writing through us, like the gateway runtime) logs is copied with
 * long strings cut, long arrays and wide objects shortened and deep nesting
 * elided, and fields that hold request bodies or GraphQL variables (profile
 * data) replaced by a marker. `logRequestData` (CDP_LOG_REQUEST_DATA=true) is
 * the one switch that lets those fields through, still bounded, for debugging.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions as LoggerSettings } from 'pino';
import { boundLogFields, boundLogText } from './logBounds.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Keep request bodies and variables in log fields (debugging only). @default false */
  logRequestData?: boolean;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const keepRequestData = options.logRequestData ?? false;
  const settings: LoggerSettings = {
    name: options.name ?? 'cdp',
    level: options.level ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      log: (fields) => boundLogFields(fields, { keepRequestData }),
    },
    hooks: {
      logMethod(args, method) {
        const bounded = args.map((arg) => (typeof arg === 'string' ? boundLogText(arg) : arg)) as Parameters<typeof method>;
        method.apply(this, bounded);
      },
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that drops everything; for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
