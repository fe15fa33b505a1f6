/**
 * How devdb reports what it does. A structured logger (pino's call shape: fields, then message) gets
 * every entry as fields, so devdb's lines join a process's JSON log stream; a plain function gets one
 * text line per entry (the standalone CLI).
 */
export type LogFields = Record<string, unknown>;

export interface DevDbLogger {
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
}

export type DevDbLogTarget = DevDbLogger | ((line: string) => void);

/** Formats entries as `devdb: message {"field":...}` lines for a text sink. */
export function textLogger(write: (line: string) => void): DevDbLogger {
  const line = (fields: LogFields, msg: string): void => {
    const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    write(`devdb: ${msg}${extra}`);
  };
  return { info: line, warn: line, error: line };
}

export function toDevDbLogger(target: DevDbLogTarget | undefined): DevDbLogger {
  if (target === undefined) return textLogger((l) => console.error(l));
  return typeof target === 'function' ? textLogger(target) : target;
}

/** A message and fields for an error, without its stack unless it is an unexpected one. */
export function errorFields(err: unknown, withStack = false): LogFields {
  if (!(err instanceof Error)) return { err: String(err) };
  return withStack && err.stack ? { err: err.message, stack: err.stack } : { err: err.message };
}
