/**
 * Limits on what one GraphQL document may ask for, checked before any subgraph
 * is called (GraphQL Armor's validation rules): depth, cost, aliases and
 * tokens. A refused document answers LIMIT_EXCEEDED with the limit it broke.
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { GraphQLError } from 'graphql';
import type { RequestLimits } from '../../lib/config.js';
import { ErrorCode } from '../../lib/errors.js';

export function requestLimitPlugins(limits: RequestLimits, options: { blockFieldSuggestions: boolean }): GatewayPlugin[] {
  const coded = { propagateOnRejection: true, exposeLimits: true, onReject: [tagAsLimitExceeded] };
  return [
    maxTokensPlugin({ n: limits.maxTokens, ...coded }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...coded }),
    maxAliasesPlugin({ n: limits.maxAliases, ...coded }),
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, ...coded }),
    ...(options.blockFieldSuggestions ? [blockFieldSuggestionsPlugin()] : []),
  ] as GatewayPlugin[];
}

/** GraphQL Armor's errors carry no code of ours; give them one clients can act on. */
function tagAsLimitExceeded(_context: unknown, error: GraphQLError): void {
  (error.extensions as Record<string, unknown>).code = ErrorCode.LimitExceeded;
}
