/**
 * Errors raised before execution (while building the context) and errors on the
 * websocket transport, brought to the same shape as Apollo's HTTP errors, then
 * passed through the single boundary, `formatGraphQLError` (lib/errors.ts).
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError, ErrorCode, findDomainError, formatGraphQLError, httpStatusFor } from '../errors.js';

/**
 * Context creation failures: a DomainError keeps its code (and an HTTP status);
 * anything else stays an unexpected error that the boundary hides.
 */
export function contextError(error: unknown): GraphQLError {
  const domain = error instanceof DomainError ? error : findDomainError(error);
  if (domain) {
    return new GraphQLError(domain.message, {
      originalError: domain,
      extensions: { code: domain.code, http: { status: httpStatusFor(domain.code) } },
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
 * graphql-js quotes the whole offending value in variable errors, so one hostile
 * value can make megabytes of messages. A longer message keeps its start and its
 * end (where graphql-js says what is wrong) and drops the middle.
 */
export const MAX_ERROR_MESSAGE_LENGTH = 1_000;

function bounded(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const { message } = formatted;
  if (message.length <= MAX_ERROR_MESSAGE_LENGTH) return formatted;
  const keep = (MAX_ERROR_MESSAGE_LENGTH - 5) / 2;
  return { ...formatted, message: `${message.slice(0, Math.floor(keep))} ... ${message.slice(-Math.ceil(keep))}` };
}

/**
 * graphql-js reports bad variables and similar request errors (such as "Too many
 * errors processing variables") without a code, an original error or a path;
 * those are the client's mistakes, so they are BAD_USER_INPUT. An error with a
 * path but no original error (a non-null field that resolved to null) is ours.
 */
function labelRequestError(error: GraphQLError): GraphQLError {
  return error.originalError || error.path ? error : withCode(error, ErrorCode.BadUserInput);
}

/** Apollo's `formatError` for HTTP requests: the single boundary, request errors labelled, messages bounded. */
export function formatHttpError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (error: unknown) => void,
): GraphQLFormattedError {
  if (error instanceof Error && error.name === 'GraphQLError' && !(error as GraphQLError).extensions?.code) {
    const labelled = labelRequestError(error as GraphQLError);
    if (labelled !== error) return bounded(formatGraphQLError({ ...formatted, extensions: { code: ErrorCode.BadUserInput } }, labelled, onInternal));
  }
  return bounded(formatGraphQLError(formatted, error, onInternal));
}

/** Websocket errors, labelled and bounded as over HTTP (where Apollo labels bad variables itself). */
export function formatWebSocketError(error: GraphQLError, onInternal: (error: unknown) => void): GraphQLFormattedError {
  const labelled = error.originalError ? error : withCode(error, ErrorCode.BadUserInput);
  return bounded(formatGraphQLError(labelled.toJSON(), labelled, onInternal));
}

/**
 * An HTTP request refused before its body is read (no valid gateway token): the
 * status and body Apollo would send, through the same error boundary.
 */
export function contextErrorResponse(
  error: unknown,
  onInternal: (error: unknown) => void,
): { status: number; body: { errors: GraphQLFormattedError[] } } {
  const graphQLError = contextError(error);
  const status = (graphQLError.extensions.http as { status?: number } | undefined)?.status ?? 500;
  const formatted = formatGraphQLError(graphQLError.toJSON(), graphQLError, onInternal);
  return { status, body: { errors: [formatted] } };
}
