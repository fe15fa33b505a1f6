/**
 * Keeps the codes of errors a subgraph sends on a subscription.
 *
 * Over HTTP the transport turns a subgraph's errors into GraphQLError objects;
 * over graphql-ws they arrive as plain JSON objects, which the runtime then
 * wraps as the original error of its own error, so error masking takes them for
 * unexpected failures and answers "Unexpected error." with INTERNAL_SERVER_ERROR.
 * A subscription refused by the subgraph (CURSOR_EXPIRED, NOT_FOUND,
 * BAD_USER_INPUT) would lose its code. Here they become GraphQLErrors, exactly
 * as HTTP errors do; the subgraph already hid anything internal in them.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

interface ErrorJson {
  message?: unknown;
  path?: unknown;
  extensions?: unknown;
}

function toGraphQLError(error: unknown): unknown {
  if (error instanceof Error) return error;
  const json = (error ?? {}) as ErrorJson;
  return new GraphQLError(typeof json.message === 'string' ? json.message : 'Subgraph error', {
    path: Array.isArray(json.path) ? (json.path as Array<string | number>) : undefined,
    extensions: typeof json.extensions === 'object' && json.extensions !== null ? (json.extensions as Record<string, unknown>) : undefined,
  });
}

function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length || result.errors.every((error) => error instanceof Error)) return result;
  return { ...result, errors: result.errors.map(toGraphQLError) as GraphQLError[] };
}

export function useSubgraphSubscriptionErrors<TContext extends object>(): GatewayPlugin<TContext> {
  return {
    onSubgraphExecute({ executionRequest }) {
      if (executionRequest.operationType !== 'subscription') return undefined;
      return ({ result, setResult }) => {
        if (!(Symbol.asyncIterator in result)) {
          setResult(withGraphQLErrors(result));
          return undefined;
        }
        return { onNext: ({ result: next, setResult: setNext }) => setNext(withGraphQLErrors(next)) };
      };
    },
  };
}
