/**
 * Limits on what one GraphQL document may ask for, checked before any subgraph
 * is called, on HTTP and websockets alike: tokens, depth and aliases (GraphQL
 * Armor's parse and validation rules), and cost with variables and schema
 * defaults applied (../limits/operationCost.ts), checked once the variables are
 * known and before execution starts. A refused document answers
 * LIMIT_EXCEEDED with the limit it broke.
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { RequestLimits } from '../../lib/config.js';
import { ErrorCode } from '../../lib/errors.js';
import { createOperationCostCache, operationCost, type OperationCostInput } from '../limits/operationCost.js';

type DocumentLimits = Pick<RequestLimits, 'maxDepth' | 'maxCost' | 'maxAliases' | 'maxTokens'>;

export function requestLimitPlugins(limits: DocumentLimits, options: { blockFieldSuggestions: boolean }): GatewayPlugin[] {
  const coded = { propagateOnRejection: true, exposeLimits: true, onReject: [tagAsLimitExceeded] };
  return [
    maxTokensPlugin({ n: limits.maxTokens, ...coded }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...coded }),
    maxAliasesPlugin({ n: limits.maxAliases, ...coded }),
    useCostLimit(limits.maxCost),
    ...(options.blockFieldSuggestions ? [blockFieldSuggestionsPlugin()] : []),
  ] as GatewayPlugin[];
}

/**
 * GraphQL Armor's errors carry no code of ours and call every refusal a
 * "Syntax Error"; give them our code and a plain message clients can act on.
 */
export function tagAsLimitExceeded(_context: unknown, error: GraphQLError): void {
  (error.extensions as Record<string, unknown>).code = ErrorCode.LimitExceeded;
  error.message = error.message.replace(/^Syntax Error: /, '');
}

interface CostArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Readonly<Record<string, unknown>> | null;
}

/** The cost error for a document over `maxCost`, or undefined. */
export function costLimitError(args: CostArgs, maxCost: number, costOf: (input: OperationCostInput) => number = operationCost): GraphQLError | undefined {
  const cost = costOf({ schema: args.schema, document: args.document, operationName: args.operationName, variables: args.variableValues });
  if (cost <= maxCost) return undefined;
  return new GraphQLError(`Query cost limit of ${maxCost} exceeded, found ${cost}`, {
    extensions: { code: ErrorCode.LimitExceeded, details: { maxCost, cost } },
  });
}

/** Cost needs the variables, so it is checked as execution (or a subscription) is about to start. */
function useCostLimit(maxCost: number): GatewayPlugin {
  const costOf = createOperationCostCache();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = costLimitError(args, maxCost, costOf);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = costLimitError(args, maxCost, costOf);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
  };
}
