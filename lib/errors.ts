/**
 * Domain errors with stable codes. Services throw these; one boundary
 * (`formatGraphQLError`) turns them into GraphQL errors with `extensions.code`.
 * Anything that is not a DomainError reaches clients as INTERNAL_SERVER_ERROR
 * with a generic message: internals and stack traces never leak.
 */
import type { GraphQLError, GraphQLFormattedError } from 'graphql';

export const ErrorCode = {
  /** The HTTP request itself is malformed (e.g. a body that is not JSON), before any GraphQL. */
  BadRequest: 'BAD_REQUEST',
  BadUserInput: 'BAD_USER_INPUT',
  NotFound: 'NOT_FOUND',
  InvalidSandbox: 'INVALID_SANDBOX',
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  Conflict: 'CONFLICT',
  RateLimited: 'RATE_LIMITED',
  LimitExceeded: 'LIMIT_EXCEEDED',
  /** A resume cursor older than the retained log (live subscriptions). */
  CursorExpired: 'CURSOR_EXPIRED',
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface DomainErrorOptions {
  /** Safe, structured details for the client (field names, limits, line numbers). */
  details?: Record<string, unknown>;
  /**
   * Safe fields a client reads directly from `extensions`, beside `code` (e.g. the `line` and
   * `column` of a segment expression's syntax error); they cannot replace `code` or `details`.
   */
  extensions?: Record<string, unknown>;
  /** Private cause for logs only; never sent to clients. */
  cause?: unknown;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.details = options.details;
    this.extensions = options.extensions;
  }
}

/** The HTTP status of a request refused with this code before execution (one map for gateway and subgraphs). */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.BadRequest:
    case ErrorCode.BadUserInput:
    case ErrorCode.InvalidSandbox:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.CursorExpired:
      return 410;
    case ErrorCode.LimitExceeded:
      return 413;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.Internal:
      return 500;
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new DomainError(ErrorCode.BadUserInput, message, { details });

export const notFound = (what: string, id: string) =>
  new DomainError(ErrorCode.NotFound, `${what} ${JSON.stringify(id)} was not found`, {
    details: { id },
  });

/** Unwraps GraphQL's located error to reach the DomainError a resolver threw. */
export function findDomainError(error: unknown): DomainError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof DomainError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/**
 * Whether `error` is a graphql-js GraphQLError. Checked by name as well as by
 * class: graphql 16 ships CommonJS and ES module builds, and under the test
 * runner our sources and our dependencies can load different ones, so an
 * `instanceof` against our copy misses errors created by Apollo or graphql-ws.
 */
export function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

/**
 * The single error boundary used as Apollo Server's `formatError`.
 * Known GraphQL errors (validation, parse, typed errors) keep their code;
 * anything unexpected becomes a generic INTERNAL_SERVER_ERROR.
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal?: (error: unknown) => void,
): GraphQLFormattedError {
  const domain = findDomainError(error);
  if (domain) {
    return {
      message: domain.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { ...domain.extensions, code: domain.code, ...(domain.details ? { details: domain.details } : {}) },
    };
  }
  const code = formatted.extensions?.code;
  const original = (error as GraphQLError | undefined)?.originalError;
  const isClientError =
    typeof code === 'string' && code !== ErrorCode.Internal && !(original && !isGraphQLError(original));
  if (isClientError) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  onInternal?.(error);
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.Internal },
  };
}
