/**
 * Errors raised before execution (while building the context) and errors on the
 * websocket transport, brought to the same shape as Apollo's HTTP errors, then
 * passed through the single boundary, `formatGraphQLError` (lib/errors.ts).
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError, ErrorCode, findDomainError, formatGraphQLError } from '../errors.js';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.BadUserInput]: 400,
  [ErrorCode.InvalidSandbox]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.RateLimited]: 429,
};

/**
 * Context creation failures: a DomainError keeps its code (and an HTTP status for
 * Apollo); anything else stays an unexpected error that the boundary hides.
 */
export function contextError(error: unknown): GraphQLError {
  const domain = error instanceof DomainError ? error : findDomainError(error);
  if (domain) {
    return new GraphQLError(domain.message, {
      originalError: domain,
      extensions: { code: domain.code, http: { status: HTTP_STATUS[domain.code] ?? 500 } },
    });
  }
  if (error instanceof GraphQLError) return error;
  return new GraphQLError('Context creation failed', {
    originalError: error instanceof Error ? error : new Error(String(error)),
  });
}

export function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/**
 * Websocket errors: graphql-js reports bad variables and similar request errors
 * without a code and without an original error; Apollo labels those
 * BAD_USER_INPUT over HTTP, so the websocket transport does too.
 */
export function formatWebSocketError(error: GraphQLError, onInternal: (error: unknown) => void): GraphQLFormattedError {
  const labelled = error.originalError ? error : withCode(error, ErrorCode.BadUserInput);
  return formatGraphQLError(labelled.toJSON(), labelled, onInternal);
}
