/**
 * The gateway's document limits (tokens, depth, aliases, cost) as one check of
 * a query string against a schema, for endpoints that are not the gateway
 * runtime: the admin API runs it before Apollo Server parses the document, so
 * /admin/graphql is held to the same limits as /graphql.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { RequestLimits } from '../../lib/config.js';
import { ErrorCode } from '../../lib/errors.js';
import { costLimitError, tagAsLimitExceeded } from '../plugins/useRequestLimits.js';

export type DocumentLimits = Pick<RequestLimits, 'maxDepth' | 'maxCost' | 'maxAliases' | 'maxTokens'>;

export interface DocumentRequest {
  query: string;
  variables?: unknown;
  operationName?: string;
}

/** The first limit `request` breaks, as a LIMIT_EXCEEDED error; undefined when within all (or not parseable: the server reports that). */
export function documentLimitError(schema: GraphQLSchema, request: DocumentRequest, limits: DocumentLimits): GraphQLError | undefined {
  let document: DocumentNode;
  try {
    document = parse(request.query, { maxTokens: limits.maxTokens });
  } catch (error) {
    // graphql-js words it "more that N tokens" in some versions.
    if (error instanceof GraphQLError && /Document contains more th(?:an|at) \d+ tokens/.test(error.message)) {
      return new GraphQLError(`Token limit of ${limits.maxTokens} exceeded`, {
        extensions: { code: ErrorCode.LimitExceeded, details: { maxTokens: limits.maxTokens } },
      });
    }
    return undefined;
  }
  const refused: GraphQLError[] = [];
  const collect = { propagateOnRejection: false, exposeLimits: true, onReject: [tagAsLimitExceeded, (_: unknown, error: GraphQLError) => refused.push(error)] };
  validate(schema, document, [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...collect }),
    maxAliasesRule({ n: limits.maxAliases, ...collect }),
  ]);
  if (refused[0]) return refused[0];
  const variables = request.variables !== null && typeof request.variables === 'object' ? (request.variables as Record<string, unknown>) : undefined;
  return costLimitError({ schema, document, operationName: request.operationName, variableValues: variables }, limits.maxCost);
}
